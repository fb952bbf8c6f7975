// IncrementalRoutes against ComputeDesiredRoutes: after every commit of long random event
// sequences (adds, updates, deletes of every kind of object, the Node's labels and name,
// bursts committed at once) the incremental routes must equal the full recomputation, and
// the changes it reports, applied to a copy, must rebuild the same routes.
#include "speaker/incremental_routes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <sstream>

#include "community/annotation.h"
#include "community/ip_prefix.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker {
namespace {

using community::AddressPool;
using community::Advertisement;
using community::LabelSelector;
using community::Peer;

constexpr char kNs[] = "metallb-system";

IpPrefix P(const std::string& text) { return *FromCommunityPrefix(*community::ParsePrefix(text)); }

Advertisement Advert(std::string ns, std::string name, std::vector<std::string> values) {
  Advertisement a;
  a.meta.name = std::move(name);
  a.meta.namespace_name = std::move(ns);
  std::vector<std::string> entries;
  for (std::size_t i = 0; i < values.size(); ++i) entries.push_back("alias-" + std::to_string(i));
  a.communities = entries;
  a.meta.annotations[std::string(community::kResolvedAnnotation)] =
      community::EncodeAnnotation({entries, values, {}});
  return a;
}

std::string Describe(const RouteSet& set) {
  std::ostringstream out;
  for (const auto& [prefix, attributes] : set) {
    out << community::Format(ToCommunityPrefix(prefix)) << " c" << attributes.communities.size()
        << " l" << attributes.large_communities.size() << " lp" << attributes.local_pref.value_or(0)
        << " pp" << int{attributes.as_path_prepend} << "; ";
  }
  return out.str();
}

// A small world where names, addresses and labels collide often.
class World {
 public:
  explicit World(unsigned seed) : rng_(seed) {
    node_ = {"node-a", {{"kubernetes.io/hostname", "node-a"}, {"zone", "z1"}}};
  }

  const Node& node() const { return node_; }
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& OneOf(const std::vector<T>& values) {
    return values[static_cast<std::size_t>(Pick(static_cast<int>(values.size())))];
  }

  std::string Address() {
    static const std::vector<std::string> kAddresses = {
        "203.0.113.1",  "203.0.113.2",  "203.0.113.9",   "203.0.113.17", "203.0.113.18",
        "203.0.113.33", "203.0.113.40", "203.0.113.77",  "198.51.100.5", "2001:db8::1",
        "2001:db8::5",  "2001:db8::1f", "2001:db8::100", "not-an-ip"};
    return OneOf(kAddresses);
  }

  LabelSelector Selector(const std::string& key, const std::vector<std::string>& values) {
    LabelSelector s;
    if (Chance(70)) {
      s.match_labels[key] = OneOf(values);
    } else {
      s.match_expressions.push_back({key, Chance(50) ? "In" : "NotIn", {OneOf(values)}});
    }
    return s;
  }

  Service MakeService() {
    Service s;
    s.namespace_name = Chance(70) ? "default" : "other";
    s.name = "s" + std::to_string(Pick(30));
    s.type = Chance(90) ? "LoadBalancer" : "ClusterIP";
    s.external_traffic_policy = Chance(30) ? "Local" : "Cluster";
    for (int n = Pick(3); n > 0; --n) s.ingress_ips.push_back(Address());
    if (Chance(60)) s.labels["app"] = Chance(50) ? "a" : "b";
    return s;
  }

  EndpointSlice MakeSlice() {
    EndpointSlice e;
    e.namespace_name = Chance(70) ? "default" : "other";
    e.name = "e" + std::to_string(Pick(20));
    e.service_name = "s" + std::to_string(Pick(30));
    for (int n = Pick(3); n > 0; --n) {
      Endpoint endpoint;
      if (Chance(80)) endpoint.addresses = {"198.18.0." + std::to_string(1 + Pick(9))};
      int ready = Pick(3);
      if (ready < 2) endpoint.ready = ready == 0;
      endpoint.node_name = Chance(60) ? "node-a" : "node-b";
      e.endpoints.push_back(endpoint);
    }
    return e;
  }

  AddressPool MakePool() {
    static const std::vector<std::string> kEntries = {
        "203.0.113.0/28", "203.0.113.0/27", "203.0.113.16-203.0.113.40", "203.0.113.64/26",
        "2001:db8::/124", "2001:db8::/120", "198.51.100.0/24",           "bogus"};
    AddressPool p;
    p.meta.namespace_name = Chance(85) ? kNs : "other-system";
    p.meta.name = "p" + std::to_string(Pick(5));
    for (int n = 1 + Pick(2); n > 0; --n) p.addresses.push_back(OneOf(kEntries));
    if (Chance(60)) p.meta.labels["tier"] = Chance(50) ? "x" : "y";
    return p;
  }

  Advertisement MakeAdvertisement() {
    static const std::vector<std::vector<std::string>> kValues = {
        {"64512:100"}, {"64512:200", "64512:100"}, {"large:64512:1:100"}, {}, {"64512:300"}};
    Advertisement a =
        Advert(Chance(85) ? kNs : "other-system", "a" + std::to_string(Pick(6)), OneOf(kValues));
    if (Chance(10)) a.meta.annotations.clear();  // refused: no resolution
    if (Chance(50)) a.aggregation_length = OneOf(std::vector<std::int64_t>{32, 30, 28, 40});
    if (Chance(30)) a.aggregation_length_v6 = OneOf(std::vector<std::int64_t>{128, 120, 124});
    if (Chance(30)) a.local_pref = OneOf(std::vector<std::int64_t>{100, 200, -1});
    if (Chance(30)) a.as_path_prepend = OneOf(std::vector<std::int64_t>{1, 3, 11});
    for (int n = Pick(3); n > 0; --n) a.ip_address_pools.push_back("p" + std::to_string(Pick(5)));
    if (Chance(20)) a.ip_address_pool_selectors.push_back(Selector("tier", {"x", "y"}));
    if (Chance(25)) a.node_selectors.push_back(Selector("zone", {"z1", "z2"}));
    for (int n = Pick(3) == 0 ? 1 : 0; n > 0; --n) a.peers.push_back("r" + std::to_string(Pick(4)));
    if (Chance(25)) a.service_selectors.push_back(Selector("app", {"a", "b"}));
    return a;
  }

  Peer MakePeer() {
    Peer p;
    p.meta.namespace_name = Chance(85) ? kNs : "other-system";
    p.meta.name = "r" + std::to_string(Pick(4));
    p.my_asn = 64512;
    p.peer_asn = 64513 + Pick(2);
    p.peer_address = "198.51.100.2";
    if (Chance(25)) p.node_selectors.push_back(Selector("zone", {"z1", "z2"}));
    if (Chance(20)) p.password = "secret-" + std::to_string(Pick(3));
    return p;
  }

  // One random change, given to `incremental` and to the world's own copy. Returns what it
  // did, for failure messages.
  std::string Step(IncrementalRoutes& incremental) {
    int kind = Pick(100);
    if (kind < 35) {
      Service s = MakeService();
      std::pair key{s.namespace_name, s.name};
      if (Chance(25) && services_.contains(key)) {
        services_.erase(key);
        incremental.RemoveService(key.first, key.second);
        return "delete Service " + key.first + "/" + key.second;
      }
      services_[key] = s;
      incremental.SetService(std::make_shared<const Service>(s));
      return "set Service " + key.first + "/" + key.second;
    }
    if (kind < 55) {
      EndpointSlice e = MakeSlice();
      std::pair key{e.namespace_name, e.name};
      if (Chance(25) && slices_.contains(key)) {
        slices_.erase(key);
        incremental.RemoveEndpointSlice(key.first, key.second);
        return "delete EndpointSlice " + key.first + "/" + key.second;
      }
      slices_[key] = e;
      incremental.SetEndpointSlice(std::make_shared<const EndpointSlice>(e));
      return "set EndpointSlice " + key.first + "/" + key.second;
    }
    if (kind < 67) {
      AddressPool p = MakePool();
      std::pair key{p.meta.namespace_name, p.meta.name};
      if (Chance(25) && pools_.contains(key)) {
        pools_.erase(key);
        incremental.RemovePool(key.first, key.second);
        return "delete IPAddressPool " + key.first + "/" + key.second;
      }
      pools_[key] = p;
      incremental.SetPool(std::make_shared<const AddressPool>(p));
      return "set IPAddressPool " + key.first + "/" + key.second;
    }
    if (kind < 82) {
      Advertisement a = MakeAdvertisement();
      std::pair key{a.meta.namespace_name, a.meta.name};
      if (Chance(25) && advertisements_.contains(key)) {
        advertisements_.erase(key);
        undecodable_.erase(key);
        incremental.RemoveAdvertisement(key.first, key.second);
        return "delete BGPAdvertisement " + key.first + "/" + key.second;
      }
      advertisements_[key] = a;
      std::string error;
      if (Chance(5)) {
        error = "does not decode: spec.peers: not a list";
        undecodable_[key] = error;
      } else {
        undecodable_.erase(key);
      }
      incremental.SetAdvertisement(std::make_shared<const Advertisement>(a), error);
      return "set BGPAdvertisement " + key.first + "/" + key.second;
    }
    if (kind < 92) {
      Peer p = MakePeer();
      std::pair key{p.meta.namespace_name, p.meta.name};
      if (Chance(25)) {
        peers_.erase(key);
      } else {
        peers_[key] = p;
      }
      std::vector<Peer> all;
      for (const auto& [k, peer] : peers_) all.push_back(peer);
      std::shuffle(all.begin(), all.end(), rng_);  // any order
      incremental.SetPeers(all);
      return "peers now " + std::to_string(all.size()) + " (changed " + key.first + "/" +
             key.second + ")";
    }
    if (Chance(15)) {
      node_.name = node_.name == "node-a" ? "node-b" : "node-a";
    } else {
      node_.labels["zone"] = Chance(50) ? "z1" : "z2";
    }
    incremental.SetNode(node_);
    return "Node " + node_.name + " zone=" + node_.labels["zone"];
  }

  SpeakerObjects Objects() const {
    SpeakerObjects o;
    for (const auto& [k, s] : services_) o.services.push_back(s);
    for (const auto& [k, e] : slices_) o.endpoint_slices.push_back(e);
    for (const auto& [k, p] : pools_) o.pools.push_back(p);
    for (const auto& [k, a] : advertisements_) {
      if (!undecodable_.contains(k)) o.advertisements.push_back(a);
    }
    for (const auto& [k, p] : peers_) o.peers.push_back(p);
    o.node = node_;
    return o;
  }

  // The refusals the full path gives, with the undecodable advertisements the Kubernetes
  // source refuses before it, in (namespace, name) order.
  std::vector<RefusedAdvertisement> Refusals(const DesiredRoutes& full) const {
    std::vector<RefusedAdvertisement> out = full.refused;
    for (const auto& [k, error] : undecodable_) {
      out.push_back({k.first, k.second, error, community::RefusalKind::kInvalid});
    }
    std::ranges::sort(out, {}, [](const RefusedAdvertisement& r) {
      return std::pair<const std::string&, const std::string&>(r.namespace_name, r.name);
    });
    return out;
  }

 private:
  std::mt19937 rng_;
  std::map<std::pair<std::string, std::string>, Service> services_;
  std::map<std::pair<std::string, std::string>, EndpointSlice> slices_;
  std::map<std::pair<std::string, std::string>, AddressPool> pools_;
  std::map<std::pair<std::string, std::string>, Advertisement> advertisements_;
  std::map<std::pair<std::string, std::string>, std::string> undecodable_;
  std::map<std::pair<std::string, std::string>, Peer> peers_;
  Node node_;
};

void RunSequence(unsigned seed, int steps) {
  World world(seed);
  IncrementalRoutes incremental;
  incremental.SetNode(world.node());
  // What a consumer of TakeChanges() holds: every peer's routes rebuilt from changes alone.
  std::map<std::string, RouteSet> consumer;
  // The same for the Services announced (ServiceBGPStatus), from Announcements() once and
  // TakeAnnouncementChanges() after.
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> announced;
  bool tracking = false;
  std::string history;
  for (int step = 0; step < steps;) {
    // A burst of 1..5 changes, committed at once.
    int burst = 1 + world.Pick(5);
    for (int i = 0; i < burst && step < steps; ++i, ++step) {
      history += "  " + world.Step(incremental) + "\n";
    }
    incremental.Commit();
    DesiredRoutes full = ComputeDesiredRoutes(world.Objects());
    DesiredRoutes got = incremental.Desired();
    std::string where = "seed " + std::to_string(seed) + " step " + std::to_string(step);
    ASSERT_EQ(got.refused, world.Refusals(full)) << where;
    ASSERT_EQ(got.by_peer.size(), full.by_peer.size()) << where << "\n" << history;
    for (const auto& [peer, routes] : full.by_peer) {
      ASSERT_TRUE(got.by_peer.contains(peer)) << where << ": peer " << peer;
      ASSERT_EQ(got.by_peer.at(peer), routes)
          << where << ": peer " << peer << "\n incremental: " << Describe(got.by_peer.at(peer))
          << "\n full:        " << Describe(routes) << "\nhistory:\n"
          << history;
      ASSERT_TRUE(incremental.Selected(peer));
    }
    for (auto& [peer, changes] : incremental.TakeChanges()) {
      ASSERT_TRUE(std::ranges::is_sorted(changes, {}, &RouteChange::prefix)) << where;
      consumer[peer].Apply(changes);
    }
    for (const auto& [peer, routes] : consumer) {
      auto it = full.by_peer.find(peer);
      // A peer no longer selected got the withdrawal of every route.
      ASSERT_EQ(routes, it == full.by_peer.end() ? RouteSet{} : it->second)
          << where << ": changes given for peer " << peer << "\nhistory:\n"
          << history;
    }
    for (const auto& [peer, routes] : full.by_peer) {
      ASSERT_EQ(consumer[peer], routes) << where << ": peer " << peer;
    }
    // Announcements: a whole list now and then (as after a resync), else the changes.
    if (!tracking || world.Pick(20) == 0) {
      announced.clear();
      for (ServiceAnnouncement& a : incremental.Announcements()) {
        ASSERT_FALSE(a.peers.empty()) << where;
        announced[{a.namespace_name, a.name}] = std::move(a.peers);
      }
      tracking = true;
    } else {
      for (ServiceAnnouncement& a : incremental.TakeAnnouncementChanges()) {
        if (a.peers.empty()) {
          announced.erase({a.namespace_name, a.name});
        } else {
          announced[{a.namespace_name, a.name}] = std::move(a.peers);
        }
      }
    }
    std::vector<ServiceAnnouncement> got_announced;
    for (const auto& [key, peers] : announced) {
      got_announced.push_back({key.first, key.second, peers});
    }
    ASSERT_EQ(got_announced, AnnouncedServices(world.Objects(), full))
        << where << ": Services announced\nhistory:\n"
        << history;
  }
}

TEST(IncrementalRoutesTest, EqualsFullRecomputationAfterEveryStep) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    RunSequence(seed, 200);
    if (HasFatalFailure()) return;
  }
}

// Not vacuous: the sequences above produce routes, withdrawals, refusals and Services
// announced and no longer announced.
TEST(IncrementalRoutesTest, SequencesExerciseRoutes) {
  std::size_t routes = 0;
  std::size_t refused = 0;
  std::size_t announced = 0;    // Services noted with peers
  std::size_t unannounced = 0;  // and without
  for (unsigned seed = 1; seed <= 20; ++seed) {
    World world(seed);
    IncrementalRoutes incremental;
    incremental.SetNode(world.node());
    for (int step = 0; step < 200; ++step) {
      world.Step(incremental);
      incremental.Commit();
      DesiredRoutes got = incremental.Desired();
      for (const auto& [peer, set] : got.by_peer) routes += set.size();
      refused += got.refused.size();
      if (step == 0) incremental.Announcements();
      for (const ServiceAnnouncement& a : incremental.TakeAnnouncementChanges()) {
        (a.peers.empty() ? unannounced : announced) += 1;
      }
    }
  }
  EXPECT_GT(routes, 1000u);
  EXPECT_GT(refused, 100u);
  EXPECT_GT(announced, 100u);
  EXPECT_GT(unannounced, 100u);
}

// A Service change recomputes that Service only, and reports only its routes.
TEST(IncrementalRoutesTest, OneServiceChangeRecomputesOneService) {
  IncrementalRoutes incremental;
  Peer peer;
  peer.meta = {"router", kNs, {}, {}};
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  incremental.SetPeers({peer});
  incremental.SetNode({"node-a", {}});
  AddressPool pool;
  pool.meta = {"pool", kNs, {}, {}};
  pool.addresses = {"198.18.0.0/16"};
  incremental.SetPool(std::make_shared<const AddressPool>(pool));
  incremental.SetAdvertisement(
      std::make_shared<const Advertisement>(Advert(kNs, "adv", {"64512:100"})));
  for (int i = 0; i < 1000; ++i) {
    incremental.SetService(std::make_shared<const Service>(
        Service{"s" + std::to_string(i),
                "default",
                "LoadBalancer",
                "Cluster",
                {"198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250)},
                {}}));
  }
  incremental.Commit();
  EXPECT_EQ(incremental.last_recomputed(), 1000u);
  EXPECT_EQ(incremental.RoutesOf("router").size(), 1000u);
  EXPECT_EQ(incremental.TakeChanges().at("router").size(), 1000u);

  incremental.SetService(std::make_shared<const Service>(
      Service{"s7", "default", "LoadBalancer", "Cluster", {"198.18.9.9"}, {}}));
  incremental.Commit();
  EXPECT_EQ(incremental.last_recomputed(), 1u);
  auto changes = incremental.TakeChanges();
  std::vector<RouteChange> want = {
      {P("198.18.0.7/32"), std::nullopt},
      {P("198.18.9.9/32"), RouteAttributes{{{64512, 100}}, {}, std::nullopt, 0}}};
  EXPECT_EQ(changes.at("router"), want);

  // A password change recomputes nothing.
  peer.password = "changed";
  incremental.SetPeers({peer});
  incremental.Commit();
  EXPECT_EQ(incremental.last_recomputed(), 0u);
  EXPECT_TRUE(incremental.TakeChanges().empty());
}

// AdjRibOut::Change sends only the changed prefixes and ends where Update would.
TEST(IncrementalRoutesTest, AdjRibOutChangeMatchesUpdate) {
  OutboundSession session;
  session.local_asn = Asn(64512);
  session.next_hops.ipv4 = IpAddress::V4(198, 51, 100, 1);
  session.families = {kIpv4Unicast};
  session.codec = CodecOptions{.four_octet_as = true};
  RouteAttributes a{{{64512, 100}}, {}, std::nullopt, 0};
  RouteAttributes b{{{64512, 200}}, {}, std::nullopt, 0};
  RouteSet table;
  for (int i = 0; i < 200; ++i) {
    table.insert_or_assign(P("198.18.0." + std::to_string(i) + "/32"), a);
  }
  AdjRibOut by_change;
  AdjRibOut by_update;
  by_change.Start(session, table);
  by_update.Start(session, table);
  std::vector<RouteChange> changes = {
      {P("198.18.0.3/32"), std::nullopt},
      {P("198.18.0.5/32"), b},
      {P("198.18.0.7/32"), a},  // unchanged: not sent
      {P("198.18.1.1/32"), a},
      {P("2001:db8::1/128"), a},  // a family the session does not carry
  };
  RouteSet next = table;
  next.Apply(changes);
  RibOutput out = by_change.Change(changes);
  RibOutput full = by_update.Update(next);
  EXPECT_EQ(out.withdrawn, 1u);
  EXPECT_EQ(out.announced, 2u);
  EXPECT_EQ(out.withdrawn, full.withdrawn);
  EXPECT_EQ(out.announced, full.announced);
  EXPECT_EQ(by_change.sent(), by_update.sent());
  EXPECT_EQ(by_change.sent().size(), 200u);
}

}  // namespace
}  // namespace bgpcomm::speaker
