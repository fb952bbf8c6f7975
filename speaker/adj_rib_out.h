// Adj-RIB-Out of one peer (RFC 4271 §3.2): what was announced on the current session, and
// the minimal UPDATE stream that turns it into a desired route set.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
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
  std::uint8_t as_path_prepend = 0;  // our ASN added this many more times (asPathPrepend)
  auto operator<=>(const RouteAttributes&) const = default;
};

// One route that changed: its new attributes, or nullopt when it is withdrawn.
struct RouteChange {
  IpPrefix prefix;
  std::optional<RouteAttributes> attributes;
  bool operator==(const RouteChange&) const = default;
};

// prefix -> attributes, iterated in prefix order (the announcement order), with a
// read-only map-like interface (`for (const auto& [prefix, attributes] : set)`, find, at,
// contains). Compact for many routes sharing few attribute sets: the set holds each
// attribute set once in a table and each route as its prefix plus a table index, in one
// sorted vector (24 octets a route instead of a map node plus two vectors).
// References into the set stay valid until it is next modified.
class RouteSet {
 public:
  using key_type = IpPrefix;
  using mapped_type = RouteAttributes;
  using value_type = std::pair<const IpPrefix&, const RouteAttributes&>;
  using size_type = std::size_t;

  // One route: its prefix and the index of its attributes in the table.
  struct Route {
    IpPrefix prefix;
    std::uint32_t attributes = 0;
  };

  class const_iterator {
   public:
    using iterator_concept = std::forward_iterator_tag;
    using iterator_category = std::input_iterator_tag;  // proxy references
    using value_type = RouteSet::value_type;
    using reference = RouteSet::value_type;
    using difference_type = std::ptrdiff_t;
    struct Arrow {
      value_type value;
      const value_type* operator->() const { return &value; }
    };

    const_iterator() = default;
    reference operator*() const { return {route_->prefix, (*table_)[route_->attributes]}; }
    Arrow operator->() const { return Arrow{**this}; }
    const_iterator& operator++() {
      ++route_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++route_;
      return before;
    }
    bool operator==(const const_iterator& other) const { return route_ == other.route_; }

   private:
    friend class RouteSet;
    const_iterator(const Route* route, const std::vector<RouteAttributes>* table)
        : route_(route), table_(table) {}
    const Route* route_ = nullptr;
    const std::vector<RouteAttributes>* table_ = nullptr;
  };
  using iterator = const_iterator;

  // Builds a set from its attribute table and its routes, in O(1) a route when they come
  // in increasing prefix order.
  class Builder {
   public:
    static constexpr std::uint32_t kNone = 0xffffffff;
    // The index of `attributes` in the table; the caller adds each attribute set once.
    std::uint32_t AddAttributes(RouteAttributes attributes);
    // Adds or replaces the route of `prefix`, with the attributes of index `attributes`
    // (returned by AddAttributes).
    void Append(const IpPrefix& prefix, std::uint32_t attributes);
    void Reserve(std::size_t routes) { routes_.reserve(routes); }
    RouteSet Build() &&;

   private:
    std::vector<Route> routes_;
    std::vector<RouteAttributes> table_;
  };

  RouteSet() = default;
  // As std::map's: a prefix given twice keeps its first attributes.
  RouteSet(std::initializer_list<std::pair<IpPrefix, RouteAttributes>> routes);

  const_iterator begin() const { return {routes_.data(), &table_}; }
  const_iterator end() const { return {routes_.data() + routes_.size(), &table_}; }
  size_type size() const { return routes_.size(); }
  bool empty() const { return routes_.empty(); }
  const_iterator find(const IpPrefix& prefix) const;
  bool contains(const IpPrefix& prefix) const { return find(prefix) != end(); }
  // Throws std::out_of_range when `prefix` is not in the set.
  const RouteAttributes& at(const IpPrefix& prefix) const;

  // Adds or replaces one route: O(size) unless appended at the end, O(attribute sets) to
  // find its attributes in the table.
  void insert_or_assign(const IpPrefix& prefix, const RouteAttributes& attributes);
  size_type erase(const IpPrefix& prefix);
  // Applies `changes` (strictly increasing prefixes): a few in place, many in one merge
  // pass, so that k changes cost O(k log n) moves of the tail or one O(n + k) pass.
  void Apply(const std::vector<RouteChange>& changes);
  // Removes every route for which pred(value_type) holds, in one pass.
  template <typename Pred>
  friend size_type erase_if(RouteSet& set, Pred pred) {
    return std::erase_if(set.routes_, [&](const Route& route) {
      return pred(value_type{route.prefix, set.table_[route.attributes]});
    });
  }
  void clear();

  // The compact form: routes in prefix order, and the attribute table they index.
  const std::vector<Route>& routes() const { return routes_; }
  const std::vector<RouteAttributes>& attribute_table() const { return table_; }

  friend bool operator==(const RouteSet& a, const RouteSet& b);

 private:
  std::vector<Route>::const_iterator LowerBound(const IpPrefix& prefix) const;
  std::uint32_t Intern(const RouteAttributes& attributes);

  std::vector<Route> routes_;           // strictly increasing prefixes
  std::vector<RouteAttributes> table_;  // may hold sets no route uses any more
};

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
  // Change only: the prefixes that entered and left sent(), so that what follows the table
  // (the session's status digest) costs O(changes). Null after Start, Update and Stop:
  // the whole table may have changed.
  struct Membership {
    std::vector<IpPrefix> added;
    std::vector<IpPrefix> removed;
  };
  std::optional<Membership> membership;
};

class AdjRibOut {
 public:
  // The session is Established: the full table (routes with identical attributes packed
  // together), then End-of-RIB for every negotiated family (RFC 4724 §2).
  RibOutput Start(const OutboundSession& session, const RouteSet& desired);
  // Only the differences between what was sent and `desired`: withdrawals first, then
  // new or changed routes. Nothing while no session is up.
  RibOutput Update(const RouteSet& desired);
  // The same for a known set of changed routes (strictly increasing prefixes): only those
  // prefixes are compared and sent, whatever the size of the table.
  RibOutput Change(const std::vector<RouteChange>& changes);
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
  // The attributes of a route of `desired` as this session carries it (LOCAL_PREF cleared
  // on eBGP, defaulted on iBGP); routes of a family it cannot carry are not sent.
  RouteAttributes Effective(const RouteAttributes& desired) const;
  // Sends what turns sent_ into `desired` as this session carries it, walking both sets.
  RibOutput Transition(const RouteSet& desired);

  std::optional<OutboundSession> session_;
  RouteSet sent_;
};

}  // namespace bgpcomm::speaker
