// Checks on an HTTP request's head, made before its body is read. cpp-httplib 0.11
// (Debian's) accepts duplicate Content-Length, Content-Length together with
// Transfer-Encoding, unbounded chunked bodies and any number of headers; the webhook
// refuses each of those here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bgpcomm::webhook {

struct RequestLimits {
  std::size_t max_body_bytes = 7 * 1024 * 1024;
  std::size_t max_headers = 100;
};

struct Rejection {
  int status;          // HTTP status
  std::string reason;  // metric label, e.g. "duplicate_content_length"
  std::string message;
};

// `headers` as received (name, value), names in any case. Returns the rejection for a
// request the webhook must not read further, or nullopt.
std::optional<Rejection> CheckRequestHead(
    std::string_view method, const std::vector<std::pair<std::string, std::string>>& headers,
    const RequestLimits& limits);

// True for `application/json`, with or without parameters such as `; charset=utf-8`.
bool IsJsonContentType(std::string_view content_type);

}  // namespace bgpcomm::webhook
