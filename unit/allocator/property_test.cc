// Random create/update/delete sequences of Services and pools. After every step:
//   - no address is held by two Services that may not share it (same non-empty sharing key,
//     same backend key, no common port);
//   - every address lies in its pool (and is no .0/.255 where the pool avoids them), at most
//     one per family, of the Service's families;
//   - every Service that held an address still valid keeps it unchanged;
//   - pool counts are the distinct addresses in use and the capacity left;
//   - the incremental state equals a from-scratch AllocateAll of the same inputs with each
//     Service's status holding what it was given (a restart moves nothing).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "allocator/allocator.h"
#include "community/ip_prefix.h"
#include "community/label_selector.h"
#include "unit/allocator/test_support.h"

namespace bgpcomm::allocator {
namespace {

using testing::Pool;

// Blocks of the address space the random pools are made of; they never overlap.
const std::vector<std::string> kBlocks = {
    "198.51.100.0/30",
    "198.51.100.4/31",
    "198.51.100.254-198.51.101.1",
    "203.0.113.0/30",
    "203.0.113.255/32",
    "2001:db8::/126",
    "2001:db8:1::/127",
    "2001:db8:2::8-2001:db8:2::a",
};
const std::vector<std::string> kPoolNames = {"a", "b", "c"};
const std::vector<std::string> kNamespaces = {"n1", "n2"};

struct World {
  std::mt19937 rng;
  std::vector<community::AddressPool> pools;
  std::map<std::string, Service> services;  // the last input of each Service

  explicit World(unsigned seed) : rng(seed) {}

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& OneOf(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  std::vector<community::AddressPool> RandomPools() {
    std::map<std::string, community::AddressPool> by_name;
    for (const auto& block : kBlocks) {
      if (Chance(20)) continue;
      const std::string& name = OneOf(kPoolNames);
      auto [it, fresh] = by_name.try_emplace(name, Pool(name, {}));
      it->second.addresses.push_back(block);
      if (fresh) {
        auto& p = it->second;
        p.avoid_buggy_ips = Chance(30);
        if (Chance(15)) p.auto_assign = false;
        switch (Pick(6)) {
          case 0:
            p.service_allocation = community::ServiceAllocation{.namespaces = {OneOf(kNamespaces)}};
            break;
          case 1:
            p.service_allocation = community::ServiceAllocation{
                .priority = Pick(3),
                .service_selectors = {{.match_labels = {{"app", Chance(50) ? "x" : "y"}}}}};
            break;
          case 2:
            p.service_allocation = community::ServiceAllocation{.priority = 1 + Pick(2)};
            break;
          default:
            break;
        }
      }
    }
    std::vector<community::AddressPool> out;
    for (auto& [name, p] : by_name) out.push_back(std::move(p));
    return out;
  }

  std::string RandomAddress() {
    static const std::vector<std::string> kAddresses = {
        "198.51.100.0",   "198.51.100.1",  "198.51.100.3",  "198.51.100.4",
        "198.51.100.255", "198.51.101.1",  "203.0.113.2",   "203.0.113.255",
        "2001:db8::1",    "2001:db8:1::1", "2001:db8:2::9", "192.0.2.1" /* in no pool */};
    return OneOf(kAddresses);
  }

  Service RandomService(const std::string& ns, const std::string& name) {
    Service s = testing::Svc(ns, name);
    s.labels = {{"app", Chance(50) ? "x" : "y"}};
    s.namespace_labels = {{"team", ns}};
    s.ports.clear();
    static const std::vector<ServicePort> kPorts = {{"TCP", 80}, {"TCP", 443}, {"UDP", 53}};
    s.ports.push_back(OneOf(kPorts));
    if (Chance(30)) s.ports.push_back(OneOf(kPorts));
    if (s.ports.size() == 2 && s.ports[0] == s.ports[1]) s.ports.pop_back();
    if (Chance(60)) {
      const std::string key = Chance(50) ? "k1" : "k2";
      s.annotations[Chance(80) ? "metallb.io/allow-shared-ip"
                               : "metallb.universe.tf/allow-shared-ip"] = key;
    }
    if (Chance(25)) {
      s.external_traffic_policy = TrafficPolicy::kLocal;
      s.selector = {{"app", Chance(50) ? "x" : "y"}};
    }
    switch (Pick(10)) {
      case 0:
      case 1:
        s.ip_families = {IpFamily::kIPv6};
        break;
      case 2:
        s.ip_families = {IpFamily::kIPv4, IpFamily::kIPv6};
        s.ip_family_policy = IpFamilyPolicy::kRequireDualStack;
        break;
      case 3:
      case 4:
        s.ip_families = Chance(50) ? std::vector{IpFamily::kIPv4, IpFamily::kIPv6}
                                   : std::vector{IpFamily::kIPv6, IpFamily::kIPv4};
        s.ip_family_policy = IpFamilyPolicy::kPreferDualStack;
        break;
      default:
        s.ip_families = {IpFamily::kIPv4};
        break;
    }
    if (Chance(10)) s.annotations["metallb.io/address-pool"] = Chance(90) ? OneOf(kPoolNames) : "z";
    if (Chance(10)) {
      std::string ips = RandomAddress();
      if (s.ip_families.size() == 2) ips += "," + RandomAddress();
      if (Chance(10)) ips = "not-an-ip";
      s.annotations["metallb.io/loadBalancerIPs"] = ips;
    } else if (Chance(4)) {
      s.load_balancer_ip = RandomAddress();
    }
    if (Chance(4)) s.type = "ClusterIP";
    if (Chance(3)) s.load_balancer_class = "other";
    return s;
  }
};

std::string SharingKey(const Service& s) {
  if (auto it = s.annotations.find("metallb.io/allow-shared-ip"); it != s.annotations.end())
    return it->second;
  if (auto it = s.annotations.find("metallb.universe.tf/allow-shared-ip");
      it != s.annotations.end())
    return it->second;
  return "";
}

std::string BackendKey(const Service& s) {
  if (s.external_traffic_policy != TrafficPolicy::kLocal) return "";
  std::string out;
  for (const auto& [k, v] : s.selector) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

const community::AddressPool* FindPool(const std::vector<community::AddressPool>& pools,
                                       const std::string& name) {
  for (const auto& p : pools)
    if (p.meta.name == name) return &p;
  return nullptr;
}

bool InPool(const community::AddressPool& pool, const community::IpAddress& ip) {
  if (pool.avoid_buggy_ips && !ip.v6 && (ip.bytes[3] == 0 || ip.bytes[3] == 255)) return false;
  for (const auto& entry : pool.addresses) {
    const auto prefixes = community::ParsePoolEntry(entry);
    for (const auto& prefix : *prefixes)
      if (community::Contains(prefix, ip)) return true;
  }
  return false;
}

// The pool's serviceAllocation admits `s` (the generator only uses namespaces, service
// selectors and priority).
std::string Describe(const std::vector<community::AddressPool>& pools) {
  std::string out;
  for (const auto& p : pools) {
    out += p.meta.name + "{";
    for (const auto& a : p.addresses) out += a + " ";
    if (p.avoid_buggy_ips) out += "avoid ";
    if (p.auto_assign == false) out += "manual ";
    if (p.service_allocation) {
      out += "sa(prio " + std::to_string(p.service_allocation->priority.value_or(0));
      for (const auto& n : p.service_allocation->namespaces) out += " ns " + n;
      for (const auto& sel : p.service_allocation->service_selectors)
        for (const auto& [k, v] : sel.match_labels) out += " sel " + k + "=" + v;
      out += ")";
    }
    out += "} ";
  }
  return out;
}

std::string Describe(const Service& s) {
  std::string out = s.Key() + " type=" + s.type + " fam=";
  for (auto f : s.ip_families) out += std::string(Name(f)) + ",";
  out += " policy=" + std::string(Name(s.ip_family_policy.value_or(IpFamilyPolicy::kSingleStack)));
  for (const auto& [k, v] : s.annotations) out += " " + k + "=" + v;
  for (const auto& [k, v] : s.labels) out += " label " + k + "=" + v;
  out += " held=";
  for (const auto& h : s.held) out += h + ",";
  out += " lbip=" + s.load_balancer_ip;
  return out;
}

bool Admits(const community::AddressPool& pool, const Service& s) {
  if (!pool.service_allocation) return true;
  const auto& sa = *pool.service_allocation;
  if (!sa.namespaces.empty() && std::find(sa.namespaces.begin(), sa.namespaces.end(),
                                          s.namespace_name) == sa.namespaces.end())
    return false;
  if (sa.service_selectors.empty()) return true;
  for (const auto& sel : sa.service_selectors)
    if (community::Matches(sel, s.labels)) return true;
  return false;
}

// Addresses of a pool, enumerated (the random pools are tiny): the capacity.
std::pair<std::int64_t, std::int64_t> Capacity(const community::AddressPool& pool) {
  std::int64_t v4 = 0, v6 = 0;
  for (const auto& entry : pool.addresses) {
    const auto prefixes = community::ParsePoolEntry(entry);
    for (const auto& prefix : *prefixes) {
      const int host = prefix.address.Bits() - prefix.length;
      for (std::int64_t i = 0; i < (std::int64_t{1} << host); ++i) {
        community::IpAddress ip = prefix.address;
        std::int64_t carry = i;
        for (int b = (ip.v6 ? 15 : 3); b >= 0 && carry; --b) {
          carry += ip.bytes[b];
          ip.bytes[b] = static_cast<std::uint8_t>(carry & 0xff);
          carry >>= 8;
        }
        if (!InPool(pool, ip)) continue;
        (ip.v6 ? v6 : v4)++;
      }
    }
  }
  return {v4, v6};
}

struct Checker {
  const World& world;
  const Allocator& allocator;

  void Check(const std::string& step) {
    SCOPED_TRACE(step);
    std::map<std::string, std::vector<std::string>> holders;  // address -> keys
    std::map<std::string, std::set<std::string>> used;        // pool -> addresses
    for (const auto& [key, s] : world.services) {
      const Result* r = allocator.Find(key);
      ASSERT_NE(r, nullptr) << key;
      if (r->addresses.empty()) {
        EXPECT_EQ(r->pool, "") << key;
        continue;
      }
      EXPECT_EQ(r->reason == Reason::kAllocated || r->reason == Reason::kMalformedRequest ||
                    r->reason == Reason::kConflictingRequest,
                true)
          << key << " " << Name(r->reason);
      const auto* pool = FindPool(world.pools, r->pool);
      ASSERT_NE(pool, nullptr) << key << " holds addresses of pool " << r->pool;
      ASSERT_LE(r->addresses.size(), 2u) << key;
      EXPECT_TRUE(Admits(*pool, s)) << key << ": pool " << r->pool << " does not admit it";
      std::set<bool> families;
      for (const auto& text : r->addresses) {
        auto ip = community::ParseAddress(text);
        ASSERT_TRUE(ip) << text;
        EXPECT_TRUE(InPool(*pool, *ip)) << key << ": " << text << " outside pool " << r->pool;
        EXPECT_TRUE(families.insert(ip->v6).second) << key << ": two addresses of one family";
        const bool family_listed =
            s.ip_families.empty() ||
            std::find(s.ip_families.begin(), s.ip_families.end(),
                      ip->v6 ? IpFamily::kIPv6 : IpFamily::kIPv4) != s.ip_families.end();
        EXPECT_TRUE(family_listed) << key << ": " << text << " not of the Service's families";
        holders[text].push_back(key);
        used[r->pool].insert(text);
      }
    }
    for (const auto& [address, keys] : holders) {
      for (std::size_t i = 0; i < keys.size(); ++i)
        for (std::size_t j = i + 1; j < keys.size(); ++j) {
          const Service& a = world.services.at(keys[i]);
          const Service& b = world.services.at(keys[j]);
          EXPECT_FALSE(SharingKey(a).empty()) << address << " shared by " << keys[i];
          EXPECT_EQ(SharingKey(a), SharingKey(b)) << address << ": " << keys[i] << ", " << keys[j];
          EXPECT_EQ(BackendKey(a), BackendKey(b)) << address << ": " << keys[i] << ", " << keys[j];
          for (const auto& p : a.ports)
            EXPECT_THAT(b.ports, ::testing::Not(::testing::Contains(p)))
                << address << ": port " << p.port << " of " << keys[i] << " and " << keys[j];
        }
    }
    for (const auto& pool : world.pools) {
      auto counts = allocator.Counts(pool.meta.name);
      ASSERT_TRUE(counts) << pool.meta.name;
      std::int64_t v4 = 0, v6 = 0;
      for (const auto& text : used[pool.meta.name]) (community::ParseAddress(text)->v6 ? v6 : v4)++;
      auto [cap4, cap6] = Capacity(pool);
      EXPECT_EQ(*counts, (PoolCounts{.assigned_ipv4 = v4,
                                     .assigned_ipv6 = v6,
                                     .available_ipv4 = cap4 - v4,
                                     .available_ipv6 = cap6 - v6}))
          << pool.meta.name;
    }
    // A restart: the same inputs, each status holding what it was given.
    std::vector<Service> restarted;
    for (const auto& [key, s] : world.services) {
      Service copy = s;
      copy.held = allocator.Find(key)->addresses;
      restarted.push_back(copy);
    }
    auto again = AllocateAll(world.pools, restarted);
    ASSERT_TRUE(again);
    for (std::size_t i = 0; i < restarted.size(); ++i) {
      const Result& now = *allocator.Find(restarted[i].Key());
      EXPECT_EQ(again->results[i].addresses, now.addresses) << restarted[i].Key();
      // A waiting Service keeps the reason of its last judgement (another Service taking an
      // address later can make a second reason true as well): compare failure, not reason.
      if (now.failed() && now.addresses.empty()) {
        EXPECT_TRUE(again->results[i].failed()) << restarted[i].Key();
      } else {
        EXPECT_EQ(again->results[i].reason, now.reason)
            << restarted[i].Key() << ": " << again->results[i].message << " / " << now.message;
      }
    }
  }
};

// True when `held` (non-empty) is still a valid holding for `s` under `pools`: one pool
// holds all of it, admits the Service, and the Service asks for nothing else.
bool StillValid(const std::vector<community::AddressPool>& pools, const Service& s,
                const Result& before) {
  const auto* pool = FindPool(pools, before.pool);
  if (!pool || !Admits(*pool, s)) return false;
  for (const auto& text : before.addresses)
    if (!InPool(*pool, *community::ParseAddress(text))) return false;
  return true;
}

void RunSequence(unsigned seed, int steps) {
  World world(seed);
  Allocator allocator;
  world.pools = world.RandomPools();
  ASSERT_TRUE(allocator.SetPools(world.pools));
  Checker checker{world, allocator};
  for (int step = 0; step < steps; ++step) {
    const std::string pools_before = Describe(world.pools);
    std::map<std::string, Result> before;
    for (const auto& [key, s] : world.services) before[key] = *allocator.Find(key);
    std::string target;
    bool pools_changed = false;
    std::string what;
    const int op = world.Pick(100);
    if (op < 35) {  // create or replace a Service
      const std::string ns = world.OneOf(kNamespaces);
      const std::string name = "s" + std::to_string(world.Pick(8));
      Service s = world.RandomService(ns, name);
      target = s.Key();
      if (world.Chance(15)) s.held = {world.RandomAddress()};  // a status from elsewhere
      what = "upsert " + target;
      world.services[target] = s;
      allocator.Upsert(s);
    } else if (op < 60 && !world.services.empty()) {  // the controller writes the status
      auto it = world.services.begin();
      std::advance(it, world.Pick(static_cast<int>(world.services.size())));
      Service s = it->second;
      s.held = allocator.Find(it->first)->addresses;
      what = "status " + it->first;
      it->second = s;
      allocator.Upsert(s);
      EXPECT_EQ(allocator.Find(it->first)->addresses, s.held) << "seed " << seed << " " << what;
    } else if (op < 72 && !world.services.empty()) {  // a small edit
      auto it = world.services.begin();
      std::advance(it, world.Pick(static_cast<int>(world.services.size())));
      target = it->first;
      Service s = it->second;
      switch (world.Pick(3)) {
        case 0:
          s.labels["app"] = world.Chance(50) ? "x" : "y";
          break;
        case 1:
          s.ports = {{"TCP", 80 + world.Pick(3)}};
          break;
        default:
          s.annotations.erase("metallb.io/allow-shared-ip");
          break;
      }
      what = "edit " + target;
      it->second = s;
      allocator.Upsert(s);
    } else if (op < 85 && !world.services.empty()) {
      auto it = world.services.begin();
      std::advance(it, world.Pick(static_cast<int>(world.services.size())));
      target = it->first;
      what = "remove " + target;
      allocator.Remove(target);
      world.services.erase(it);
    } else {
      world.pools = world.RandomPools();
      pools_changed = true;
      what = "pools";
      ASSERT_TRUE(allocator.SetPools(world.pools));
    }
    // Stability: a Service that held addresses and was not the one changed keeps them while
    // they stay valid.
    for (const auto& [key, was] : before) {
      if (key == target || was.addresses.empty() || !world.services.count(key)) continue;
      const Service& s = world.services.at(key);
      // What it holds is its status (or, unwritten, our decision); a stale status from
      // elsewhere is judged on its own.
      if (!s.held.empty() && s.held != was.addresses) continue;
      if (pools_changed && !StillValid(world.pools, s, was)) continue;
      // Kept unchanged; a PreferDualStack Service holding one family may gain the other.
      std::vector<std::string> now = allocator.Find(key)->addresses;
      if (now.size() == 2 && was.addresses.size() == 1 &&
          s.ip_family_policy == IpFamilyPolicy::kPreferDualStack)
        now.pop_back();
      EXPECT_EQ(now, was.addresses)
          << "seed " << seed << " step " << step << " (" << what << "): " << key << " moved\n"
          << Describe(s) << "\nbefore: " << pools_before << "\nafter: " << Describe(world.pools)
          << "\nnotes: " << ::testing::PrintToString(allocator.Find(key)->notes)
          << "\nall: " << [&] {
               std::string all;
               for (const auto& [k, r] : before)
                 all += "\n  " + Describe(world.services.at(k)) + " was " +
                        ::testing::PrintToString(r.addresses) + " now " +
                        ::testing::PrintToString(allocator.Find(k)->addresses) + " " +
                        allocator.Find(k)->message +
                        ::testing::PrintToString(allocator.Find(k)->notes);
               return all;
             }();
    }
    checker.Check("seed " + std::to_string(seed) + " step " + std::to_string(step) + " (" + what +
                  ")");
    if (::testing::Test::HasFailure()) return;
  }
}

// 2,000 sequences of 30 steps (60,000 steps, each checked in full), in four tests so that
// ctest can run them side by side.
void RunSeeds(unsigned first, unsigned last) {
  for (unsigned seed = first; seed <= last; ++seed) {
    RunSequence(seed, 30);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "first failing seed: " << seed;
      return;
    }
  }
}

// Malformed input never crashes the core, and every message stays one printable line (the
// values are quoted with escapes).
TEST(AllocatorProperty, GarbageInputIsReportedNotFatal) {
  std::mt19937 rng(7);
  auto garbage = [&] {
    std::string out;
    const int n = std::uniform_int_distribution<int>(0, 24)(rng);
    for (int i = 0; i < n; ++i) {
      static const std::string kAlphabet = "0123456789abcdef.:,/- \n\t\"\x01\xff";
      out += kAlphabet[std::uniform_int_distribution<std::size_t>(0, kAlphabet.size() - 1)(rng)];
    }
    return out;
  };
  Allocator allocator;
  ASSERT_TRUE(allocator.SetPools({Pool("p", {"198.51.100.0/30", "2001:db8::/126"})}));
  for (int i = 0; i < 3000; ++i) {
    Service s = testing::Svc("ns", "s" + std::to_string(i % 50));
    s.annotations["metallb.io/loadBalancerIPs"] = garbage();
    s.annotations["metallb.universe.tf/address-pool"] = garbage();
    s.annotations["metallb.io/allow-shared-ip"] = garbage();
    if (i % 3 == 0) s.annotations.erase("metallb.io/loadBalancerIPs");
    if (i % 3 == 1) {  // clashes on one address, with garbage protocols and selectors
      s.annotations["metallb.io/loadBalancerIPs"] = "198.51.100.1";
      s.annotations.erase("metallb.universe.tf/address-pool");
      s.annotations["metallb.io/allow-shared-ip"] = "k";
      s.external_traffic_policy = i % 2 ? TrafficPolicy::kLocal : TrafficPolicy::kCluster;
      s.selector = {{garbage(), garbage()}};
      if (i % 6 == 1) s.selector.clear();
      s.ports = {{i % 4 == 1 ? "\x01" : "TCP\n", 80}};
    }
    if (i % 5 == 0) s.load_balancer_ip = garbage();
    s.held = {garbage(), garbage()};
    if (i % 3 != 1)
      s.ports = {{garbage(), std::uniform_int_distribution<std::int64_t>(-5, 70000)(rng)}};
    allocator.Upsert(s);
    const Result* r = allocator.Find(s.Key());
    ASSERT_NE(r, nullptr);
    for (const std::string& text : [&] {
           std::vector<std::string> all = r->notes;
           all.push_back(r->message);
           return all;
         }()) {
      for (char c : text)
        ASSERT_TRUE(c >= 0x20 && c < 0x7f)
            << "unprintable byte in " << ::testing::PrintToString(text);
    }
  }
}

TEST(AllocatorProperty, RandomSequencesSeeds1To500) { RunSeeds(1, 500); }
TEST(AllocatorProperty, RandomSequencesSeeds501To1000) { RunSeeds(501, 1000); }
TEST(AllocatorProperty, RandomSequencesSeeds1001To1500) { RunSeeds(1001, 1500); }
TEST(AllocatorProperty, RandomSequencesSeeds1501To2000) { RunSeeds(1501, 2000); }

}  // namespace
}  // namespace bgpcomm::allocator
