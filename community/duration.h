// Go durations, the text form of every metav1.Duration field (BGPPeer holdTime,
// keepaliveTime, connectTime) and of bgpcomm's duration flags. One parser for the webhook,
// the speaker and `bgpcomm lint`, so that what admission accepts the speaker runs.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>

namespace bgpcomm::community {

// Parses Go's time.ParseDuration syntax: an optional sign, then one or more
// `number[.fraction]unit` parts with units ns, us, µs (U+00B5 or U+03BC), ms, s, m, h
// ("90s", "1m30s", "1.5m", "90000ms", "-2h"); "0" alone needs no unit. Values beyond
// ±9223372036854775807ns are refused, as Go refuses them. The error says why, e.g.
// `missing unit in "90"`.
std::expected<std::chrono::nanoseconds, std::string> ParseGoDuration(std::string_view text);

// Go's Duration.String(): "1m30s", "1.5s", "300ms", "0s".
std::string FormatGoDuration(std::chrono::nanoseconds duration);

}  // namespace bgpcomm::community
