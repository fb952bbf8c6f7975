// Adj-RIB-Out of one peer (RFC 4271 §3.2): what was announced on the current session, and
// the minimal UPDATE stream that turns it into a desired route set.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "speaker/bgp_encoder.h"
#include "speaker/bgp_message.h"
#include "speaker/update_packer.h"

namespace bgpcomm::speaker {

// What the speaker attaches to one originated route.
struct RouteAttributes {
  std::vector<StandardCommunity> communities;     // in announcement order
  std::vector<LargeCommunity> large_communities;  // in announcement order
  std::optional<std::uint32_t> local_pref;        // sent to iBGP peers only
  auto operator<=>(const RouteAttributes&) const = default;
};

// prefix -> attributes; the order of the map is the announcement order.
using RouteSet = std::map<IpPrefix, RouteAttributes>;

// The parts of an established session that shape UPDATEs.
struct OutboundSession {
  Asn local_asn;
  bool ibgp = false;
  NextHops next_hops;             // a family without a next hop is not announced
  std::vector<AfiSafi> families;  // negotiated
  CodecOptions codec;
};

// Encoded UPDATEs plus what they did, for metrics and logs.
struct RibOutput {
  std::vector<Bytes> messages;
  std::size_t announced = 0;  // prefixes (re-)announced
  std::size_t withdrawn = 0;  // prefixes withdrawn
  // Routes that could not be encoded (their attributes leave no room in 4096 octets); they
  // are not sent and count as not announced.
  std::vector<std::string> errors;
};

class AdjRibOut {
 public:
  // The session is Established: the full table (routes with identical attributes packed
  // together), then End-of-RIB for every negotiated family (RFC 4724 §2).
  RibOutput Start(const OutboundSession& session, const RouteSet& desired);
  // Only the differences between what was sent and `desired`: withdrawals first, then
  // new or changed routes. Nothing while no session is up.
  RibOutput Update(const RouteSet& desired);
  // The session went down: nothing is announced any more.
  void Stop();

  bool active() const { return session_.has_value(); }
  // What the peer holds from us, as it would read it (LOCAL_PREF dropped on eBGP).
  const RouteSet& sent() const { return sent_; }

  // The path attributes of an originated route on `session` (RFC 4271 §5.1): ORIGIN IGP;
  // AS_PATH empty to iBGP peers, our AS to eBGP peers; LOCAL_PREF to iBGP peers only
  // (default 100, it is mandatory there); the communities.
  static PathAttributes ToPathAttributes(const OutboundSession& session,
                                         const RouteAttributes& route);

 private:
  // `desired` as this session carries it: families and next hops it cannot carry dropped,
  // LOCAL_PREF cleared on eBGP.
  RouteSet Effective(const RouteSet& desired) const;
  RibOutput Transition(RouteSet target);

  std::optional<OutboundSession> session_;
  RouteSet sent_;
};

}  // namespace bgpcomm::speaker
