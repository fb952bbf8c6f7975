// The rules follow MetalLB 0.16.2's controller (controller/service.go convergeBalancer and
// allocateIPs, internal/allocator); allocator/README.md lists each decision.
#include "allocator/allocator.h"

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "allocator/address_space.h"
#include "community/ip_prefix.h"
#include "community/label_selector.h"
#include "community/value.h"

namespace bgpcomm::allocator {
namespace {

using community::Quote;
using internal::Addr;
using internal::AddrHash;
using internal::FreeSet;
using internal::Range;

constexpr std::int64_t kMaxCount = std::numeric_limits<std::int64_t>::max();

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::string FormatAll(const std::vector<Addr>& addrs) {
  std::vector<std::string> out;
  for (const auto& a : addrs) out.push_back(internal::Format(a));
  return Join(out);
}

// An annotation read as MetalLB reads it: the metallb.io spelling when present (even
// empty), else the metallb.universe.tf one. `name` is the spelling found, for messages.
struct Annotation {
  std::string name;
  std::string value;
};
std::optional<Annotation> ReadAnnotation(const std::map<std::string, std::string>& annotations,
                                         std::string_view current, std::string_view legacy) {
  if (auto it = annotations.find(std::string(current)); it != annotations.end())
    return Annotation{it->first, it->second};
  if (auto it = annotations.find(std::string(legacy)); it != annotations.end())
    return Annotation{it->first, it->second};
  return std::nullopt;
}

// labels.Set(selector).String(): "k1=v1,k2=v2" in key order (std::map is ordered).
std::string SelectorString(const std::map<std::string, std::string>& selector) {
  std::string out;
  for (const auto& [k, v] : selector) {
    if (!out.empty()) out += ',';
    out += k + "=" + v;
  }
  return out;
}

struct Failure {
  Reason reason;
  std::string message;
};

// Address families: a bit set, 1 = IPv4, 2 = IPv6.
constexpr int kV4 = 1;
constexpr int kV6 = 2;
int FamilyBit(bool v6) { return v6 ? kV6 : kV4; }
int FamilyBits(const std::vector<Addr>& addrs) {
  int bits = 0;
  for (const auto& a : addrs) bits |= FamilyBit(a.v6);
  return bits;
}
std::string FamilyName(int bits) {
  switch (bits) {
    case kV4:
      return "IPv4";
    case kV6:
      return "IPv6";
    case kV4 | kV6:
      return "IPv4 and IPv6";
  }
  return "no family";
}

// What a Service asks for, parsed.
struct Request {
  std::string sharing;  // allow-shared-ip value; empty: no sharing
  std::string backend;  // "" under Cluster, the selector under Local (MetalLB's backend key)
  std::optional<Annotation> pool;            // address-pool, when non-empty
  std::optional<std::vector<Addr>> desired;  // loadBalancerIPs or spec.loadBalancerIP
  std::string desired_source;                // the annotation or field named
  std::optional<Failure> desired_error;      // malformed or contradictory request
  int families = kV4;                        // the Service's families
  std::vector<bool> family_order;            // v6 flags in spec.ipFamilies order
  IpFamilyPolicy policy = IpFamilyPolicy::kSingleStack;
  bool dual() const { return families == (kV4 | kV6); }
};

Request ParseRequest(const Service& s) {
  Request r;
  if (auto a =
          ReadAnnotation(s.annotations, kAllowSharedIpAnnotation, kLegacyAllowSharedIpAnnotation))
    r.sharing = a->value;
  if (s.external_traffic_policy == TrafficPolicy::kLocal) r.backend = SelectorString(s.selector);
  if (auto a = ReadAnnotation(s.annotations, kAddressPoolAnnotation, kLegacyAddressPoolAnnotation);
      a && !a->value.empty())
    r.pool = a;
  r.policy = s.ip_family_policy.value_or(IpFamilyPolicy::kSingleStack);

  auto ips =
      ReadAnnotation(s.annotations, kLoadBalancerIpsAnnotation, kLegacyLoadBalancerIpsAnnotation);
  const bool has_annotation = ips && !ips->value.empty();
  if (has_annotation && !s.load_balancer_ip.empty()) {
    r.desired_error = Failure{Reason::kConflictingRequest,
                              ips->name + " " + Quote(ips->value) + " and spec.loadBalancerIP " +
                                  Quote(s.load_balancer_ip) + " are both set; set only one"};
  } else if (has_annotation) {
    r.desired_source = ips->name;
    std::vector<Addr> addrs;
    std::string_view rest = ips->value;
    while (true) {
      const std::size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
      auto parsed = community::ParseAddress(item);
      if (!parsed) {
        r.desired_error =
            Failure{Reason::kMalformedRequest, ips->name + " " + Quote(ips->value) + ": " +
                                                   Quote(item) + " is not an IP address"};
        break;
      }
      addrs.push_back(internal::FromIp(*parsed));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!r.desired_error) {
      if (addrs.size() > 2) {
        r.desired_error = Failure{
            Reason::kMalformedRequest,
            ips->name + " " + Quote(ips->value) + ": at most two addresses, one IPv4 and one IPv6"};
      } else if (addrs.size() == 2 && addrs[0].v6 == addrs[1].v6) {
        r.desired_error =
            Failure{Reason::kMalformedRequest, ips->name + " " + Quote(ips->value) + ": two " +
                                                   FamilyName(FamilyBit(addrs[0].v6)) +
                                                   " addresses; give one per family"};
      } else {
        r.desired = std::move(addrs);
      }
    }
  } else if (!s.load_balancer_ip.empty()) {
    r.desired_source = "spec.loadBalancerIP";
    auto parsed = community::ParseAddress(s.load_balancer_ip);
    if (!parsed) {
      r.desired_error =
          Failure{Reason::kMalformedRequest,
                  "spec.loadBalancerIP " + Quote(s.load_balancer_ip) + " is not an IP address"};
    } else {
      r.desired = std::vector<Addr>{internal::FromIp(*parsed)};
    }
  }

  // The Service's families: spec.ipFamilies as the API server filled it; for a manifest it
  // has not seen, the requested addresses' families, else IPv4 (both under RequireDualStack).
  for (IpFamily f : s.ip_families) {
    const bool v6 = f == IpFamily::kIPv6;
    if (std::find(r.family_order.begin(), r.family_order.end(), v6) == r.family_order.end())
      r.family_order.push_back(v6);
  }
  if (r.family_order.empty()) {
    if (r.desired) {
      for (const auto& a : *r.desired) r.family_order.push_back(a.v6);
    } else {
      r.family_order.push_back(false);
      if (r.policy == IpFamilyPolicy::kRequireDualStack) r.family_order.push_back(true);
    }
  }
  r.families = 0;
  for (bool v6 : r.family_order) r.families |= FamilyBit(v6);
  return r;
}

// `text` as is when it is plain printable ASCII, else quoted with escapes (a manifest's
// label or protocol may hold anything; a message stays one printable line).
std::string Safe(std::string_view text) {
  for (char c : text)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return Quote(text);
  return std::string(text);
}

std::string DescribeBackend(const std::string& backend) {
  return backend.empty() ? "externalTrafficPolicy Cluster"
                         : "externalTrafficPolicy Local with selector " + Safe(backend);
}

struct PoolState {
  community::AddressPool spec;
  std::vector<Range> ranges;  // spec.addresses as CIDRs, in order
  bool auto_assign = true;
  std::int64_t priority = 0;  // > 0: serviceAllocation.priority; 0: none
  std::int64_t capacity_v4 = 0;
  std::int64_t capacity_v6 = 0;
  std::int64_t used_v4 = 0;  // distinct addresses in use
  std::int64_t used_v6 = 0;
  int families = 0;
  FreeSet free;

  const std::string& name() const { return spec.meta.name; }
  bool avoid_buggy() const { return spec.avoid_buggy_ips; }
  PoolCounts Counts() const {
    return PoolCounts{.assigned_ipv4 = used_v4,
                      .assigned_ipv6 = used_v6,
                      .available_ipv4 = capacity_v4 - used_v4,
                      .available_ipv6 = capacity_v6 - used_v6};
  }
};

std::shared_ptr<PoolState> BuildPool(const community::AddressPool& spec) {
  auto pool = std::make_shared<PoolState>();
  pool->spec = spec;
  pool->auto_assign = spec.auto_assign.value_or(true);
  if (spec.service_allocation && spec.service_allocation->priority.value_or(0) > 0)
    pool->priority = *spec.service_allocation->priority;
  for (const auto& entry : spec.addresses) {
    auto prefixes = community::ParsePoolEntry(entry);
    if (!prefixes) continue;  // ValidatePools refused such a set before
    for (const auto& prefix : *prefixes) {
      Range r = internal::ToRange(prefix);
      pool->ranges.push_back(r);
      pool->free.AddRange(r);
      pool->families |= FamilyBit(r.first.v6);
      const std::int64_t size = internal::Capacity(r, spec.avoid_buggy_ips);
      if (r.first.v6) {
        pool->capacity_v6 = internal::SaturatingAdd(pool->capacity_v6, size);
      } else {
        pool->capacity_v4 += size;
      }
    }
  }
  return pool;
}

}  // namespace

std::vector<community::Diagnostic> ValidatePools(std::span<const community::AddressPool> pools) {
  community::Diagnostics out;
  std::set<std::string> names;
  struct Owned {
    Range range;
    std::string field;
    std::string text;
  };
  std::vector<Owned> all;
  for (std::size_t p = 0; p < pools.size(); ++p) {
    const auto& pool = pools[p];
    const std::string& name = pool.meta.name;
    const std::string base = name.empty() ? "[" + std::to_string(p) + "]" : name;
    if (name.empty()) out.Error(base + ".metadata.name", "the pool has no name");
    if (!name.empty() && !names.insert(name).second)
      out.Error(base + ".metadata.name", "two pools are named " + Quote(name));
    if (pool.addresses.empty()) out.Error(base + ".spec.addresses", "the pool has no addresses");
    for (std::size_t i = 0; i < pool.addresses.size(); ++i) {
      const std::string field = base + ".spec.addresses[" + std::to_string(i) + "]";
      auto prefixes = community::ParsePoolEntry(pool.addresses[i]);
      if (!prefixes) {
        out.Error(field, prefixes.error());
        continue;
      }
      for (const auto& prefix : *prefixes)
        all.push_back({internal::ToRange(prefix), field, pool.addresses[i]});
    }
    if (pool.service_allocation) {
      const auto& sa = *pool.service_allocation;
      const std::string sa_field = base + ".spec.serviceAllocation";
      std::set<std::string> seen;
      for (std::size_t i = 0; i < sa.namespaces.size(); ++i)
        if (!seen.insert(sa.namespaces[i]).second)
          out.Error(sa_field + ".namespaces[" + std::to_string(i) + "]",
                    "namespace " + Quote(sa.namespaces[i]) + " is listed twice");
      auto selectors = [&](const std::vector<community::LabelSelector>& list,
                           const std::string& field) {
        for (std::size_t i = 0; i < list.size(); ++i) {
          const std::string f = field + "[" + std::to_string(i) + "]";
          community::ValidateSelector(list[i], f, out);
          for (std::size_t j = 0; j < i; ++j)
            if (list[j] == list[i])
              out.Error(f, "the same selector as " + field + "[" + std::to_string(j) + "]");
        }
      };
      selectors(sa.namespace_selectors, sa_field + ".namespaceSelectors");
      selectors(sa.service_selectors, sa_field + ".serviceSelectors");
    }
  }
  // CIDRs either nest or are disjoint: after sorting, an overlap is a range that starts
  // before the furthest end seen so far.
  std::sort(all.begin(), all.end(), [](const Owned& a, const Owned& b) {
    return a.range.first < b.range.first ||
           (a.range.first == b.range.first && b.range.last < a.range.last);
  });
  const Owned* widest = nullptr;
  for (const auto& o : all) {
    if (widest && widest->range.first.v6 == o.range.first.v6 &&
        !(widest->range.last < o.range.first)) {
      if (widest->field != o.field || widest->text != o.text)
        out.Error(o.field,
                  Quote(o.text) + " overlaps " + widest->field + " (" + Quote(widest->text) + ")");
      continue;
    }
    widest = &o;
  }
  return out.items;
}

class Allocator::Impl {
 public:
  struct Entry {
    Service input;
    Request request;
    Result result;
    std::vector<Addr> addrs;  // held now (committed)
    std::shared_ptr<PoolState> pool;
    std::vector<Addr> deferred;  // what it held before a keep-only judgement kept nothing
  };

  struct Use {
    std::string sharing;
    std::string backend;
    std::shared_ptr<PoolState> pool;
    std::vector<Entry*> holders;
  };

  explicit Impl(Options o) : options_(std::move(o)) {}

  // --- pools ---------------------------------------------------------------------------

  std::expected<Changes, std::vector<community::Diagnostic>> SetPools(
      std::vector<community::AddressPool> specs) {
    if (auto problems = ValidatePools(specs); !problems.empty())
      return std::unexpected(std::move(problems));
    Tracker tracker(*this);
    std::map<std::string, std::shared_ptr<PoolState>, std::less<>> next;
    std::set<std::shared_ptr<PoolState>> gone;
    for (auto& spec : specs) {
      auto it = pools_.find(spec.meta.name);
      if (it != pools_.end() && it->second->spec == spec) {
        next[spec.meta.name] = it->second;
      } else {
        next[spec.meta.name] = BuildPool(spec);
        tracker.NotePool(spec.meta.name);
      }
    }
    for (const auto& [name, pool] : pools_) {
      auto it = next.find(name);
      if (it == next.end() || it->second != pool) {
        gone.insert(pool);
        tracker.NotePool(name);
      }
    }
    // Services holding addresses of pools that changed or went away: release them against
    // the old pools, then judge them again against the new ones (key order).
    std::vector<Entry*> affected;
    for (auto& [key, entry] : services_)
      if (entry.pool && gone.count(entry.pool)) affected.push_back(&entry);
    std::sort(affected.begin(), affected.end(), KeyLess{});
    for (Entry* e : affected) {
      std::vector<Addr> previous = e->addrs;
      Release(*e);
      e->deferred = std::move(previous);
      waiting_.insert(e);
    }
    pools_ = std::move(next);
    RebuildIndex();
    Rejudge(affected, tracker);
    return tracker.Finish();
  }

  // --- services ------------------------------------------------------------------------

  Changes Upsert(const Service& s) {
    Tracker tracker(*this);
    UpsertOne(s, tracker, /*judge=*/true);
    if (tracker.retry) RetryWaiting(tracker);
    return tracker.Finish();
  }

  Changes UpsertAll(std::span<const Service> services) {
    Tracker tracker(*this);
    // First every Service that holds addresses (in its status, or by our last decision),
    // so that no Service takes an address another one holds; PreferDualStack additions wait
    // until then too. Then the others, with the waiting ones, in key order.
    services_.reserve(services_.size() + services.size());
    std::vector<Entry*> holding;
    for (const auto& s : services) {
      bool held_before = false;
      Entry* e = UpsertOne(s, tracker, /*judge=*/false, &held_before);
      if (e && (held_before || !s.held.empty())) holding.push_back(e);
    }
    std::sort(holding.begin(), holding.end(), KeyLess{});
    holding.erase(std::unique(holding.begin(), holding.end()), holding.end());
    Rejudge(holding, tracker);
    return tracker.Finish();
  }

  Changes Remove(std::string_view key) {
    Tracker tracker(*this);
    auto it = services_.find(std::string(key));
    if (it == services_.end()) return {};
    if (!it->second.addrs.empty()) tracker.retry = true;
    Release(it->second);
    waiting_.erase(&it->second);
    tracker.NoteService(it->first);
    services_.erase(it);
    if (tracker.retry) RetryWaiting(tracker);
    return tracker.Finish();
  }

  const Result* Find(std::string_view key) const {
    auto it = services_.find(std::string(key));
    return it == services_.end() ? nullptr : &it->second.result;
  }

  std::optional<PoolCounts> Counts(std::string_view name) const {
    auto it = pools_.find(name);
    if (it == pools_.end()) return std::nullopt;
    return it->second->Counts();
  }

  std::map<std::string, PoolCounts, std::less<>> AllCounts() const {
    std::map<std::string, PoolCounts, std::less<>> out;
    for (const auto& [name, pool] : pools_) out[name] = pool->Counts();
    return out;
  }

  std::size_t size() const { return services_.size(); }

 private:
  // Collects what one call changed: pools touched (their counts compared at the end) and
  // Services whose result changed.
  struct Tracker {
    explicit Tracker(Impl& impl) : impl(impl) { impl.tracker_ = this; }
    ~Tracker() { impl.tracker_ = nullptr; }
    Tracker(const Tracker&) = delete;
    Tracker& operator=(const Tracker&) = delete;
    void NotePool(const std::string& name) {
      if (touched_pools.insert(name).second) {
        auto it = impl.pools_.find(name);
        before[name] = it == impl.pools_.end() ? std::nullopt
                                               : std::optional<PoolCounts>(it->second->Counts());
      }
    }
    void NoteService(const std::string& key) { services.push_back(key); }
    Changes Finish() {
      Changes out;
      std::sort(services.begin(), services.end());
      services.erase(std::unique(services.begin(), services.end()), services.end());
      out.services = std::move(services);
      for (const auto& name : touched_pools) {
        auto it = impl.pools_.find(name);
        std::optional<PoolCounts> after;
        if (it != impl.pools_.end()) after = it->second->Counts();
        if (after != before[name]) out.pools.push_back(name);
      }
      return out;
    }
    Impl& impl;
    std::set<std::string> touched_pools;
    std::map<std::string, std::optional<PoolCounts>> before;
    std::vector<std::string> services;
    // Something was freed or became shareable: Services that wait may now succeed.
    bool retry = false;
  };

  // Records `s`; judges it now, or (judge false) releases it and marks it waiting so that
  // Rejudge or RetryWaiting judges it with the others.
  Entry* UpsertOne(const Service& s, Tracker& tracker, bool judge, bool* held_before = nullptr) {
    const std::string key = s.Key();
    auto [it, inserted] = services_.try_emplace(key);
    Entry& e = it->second;
    if (!inserted && SameExceptHeld(e.input, s) && HeldMatches(s.held, e)) {
      e.input = s;
      return nullptr;
    }
    std::vector<Addr> previous = e.addrs;
    if (held_before) *held_before = !previous.empty();
    const Request old_request = e.request;
    const std::vector<ServicePort> old_ports = e.input.ports;
    Release(e);
    e.input = s;
    e.request = ParseRequest(s);
    if (inserted) e.result.key = key;
    if (!judge) {
      if (inserted) tracker.NoteService(key);
      e.deferred = std::move(previous);
      waiting_.insert(&e);
      return &e;
    }
    Judge(e, previous, tracker, inserted);
    for (const auto& a : previous)
      if (std::find(e.addrs.begin(), e.addrs.end(), a) == e.addrs.end()) tracker.retry = true;
    if (!previous.empty() && (old_request.sharing != e.request.sharing ||
                              old_request.backend != e.request.backend || old_ports != s.ports))
      tracker.retry = true;
    return &e;
  }

  static bool SameExceptHeld(const Service& a, const Service& b) {
    return a.namespace_name == b.namespace_name && a.name == b.name && a.labels == b.labels &&
           a.namespace_labels == b.namespace_labels && a.annotations == b.annotations &&
           a.type == b.type && a.load_balancer_class == b.load_balancer_class &&
           a.load_balancer_ip == b.load_balancer_ip && a.ip_families == b.ip_families &&
           a.ip_family_policy == b.ip_family_policy && a.ports == b.ports &&
           a.external_traffic_policy == b.external_traffic_policy && a.selector == b.selector;
  }

  // The status is what we decided (or not written yet): nothing to judge again.
  static bool HeldMatches(const std::vector<std::string>& held, const Entry& e) {
    if (held.empty()) return true;
    if (held.size() != e.addrs.size()) return false;
    for (std::size_t i = 0; i < held.size(); ++i) {
      auto parsed = community::ParseAddress(held[i]);
      if (!parsed || internal::FromIp(*parsed) != e.addrs[i]) return false;
    }
    return true;
  }

  // Judges again Services that were released (their earlier holding in Entry::deferred),
  // without letting one take what another has yet to keep: first each keeps its holding
  // (our last decision, else its status) if still valid, then its status, both taking
  // nothing new; then everyone waiting is judged in full, in key order.
  void Rejudge(const std::vector<Entry*>& entries, Tracker& tracker) {
    for (Mode mode : {Mode::kKeepFirst, Mode::kKeepSecond}) {
      mode_ = mode;
      for (Entry* entry : entries) {
        Entry& e = *entry;
        if (!waiting_.count(entry) || !e.addrs.empty()) continue;
        std::vector<Addr> previous = std::move(e.deferred);
        e.deferred.clear();
        Judge(e, previous, tracker);
      }
    }
    mode_ = Mode::kFull;
    RetryWaiting(tracker);
  }

  // Judges every waiting Service again, in key order. A pass that made an address
  // shareable and served someone runs again, for the waiting Services before it.
  void RetryWaiting(Tracker& tracker) {
    while (true) {
      tracker.retry = false;
      bool served = false;
      std::vector<Entry*> entries(waiting_.begin(), waiting_.end());
      std::sort(entries.begin(), entries.end(), KeyLess{});
      for (Entry* entry : entries) {
        Entry& e = *entry;
        std::vector<Addr> previous = e.addrs.empty() ? std::move(e.deferred) : e.addrs;
        e.deferred.clear();
        Release(e);
        Judge(e, previous, tracker);
        if (e.addrs.size() > previous.size()) served = true;
      }
      if (!tracker.retry || !served) break;
    }
    tracker.retry = false;
  }

  // Decides `e` (which holds nothing now) and commits the decision; `previous` is what it
  // held before this call.
  void Judge(Entry& e, const std::vector<Addr>& previous, Tracker& tracker, bool is_new = false) {
    Result r = Decide(e, previous);
    if (deferred_) {
      deferred_ = false;
      e.deferred = previous;
      waiting_.insert(&e);
      return;
    }
    r.key = e.result.key.empty() ? e.input.Key() : e.result.key;
    if (is_new || r != e.result) tracker.NoteService(r.key);
    e.result = std::move(r);
    const bool half_served = e.addrs.size() == 1 && e.request.dual() &&
                             e.request.policy == IpFamilyPolicy::kPreferDualStack &&
                             !e.request.desired;
    if ((e.result.failed() && e.addrs.empty()) || half_served) {
      waiting_.insert(&e);
    } else {
      waiting_.erase(&e);
    }
  }

  Result Decide(Entry& e, const std::vector<Addr>& previous) {
    const Service& s = e.input;
    const Request& req = e.request;
    Result r;
    if (options_.load_balancer_class.empty()
            ? s.load_balancer_class.has_value()
            : s.load_balancer_class != options_.load_balancer_class) {
      r.reason = Reason::kNotOurs;
      r.message = "spec.loadBalancerClass " +
                  (s.load_balancer_class ? Quote(*s.load_balancer_class) : std::string("unset")) +
                  (options_.load_balancer_class.empty()
                       ? std::string(" is not served: this allocator serves Services without a "
                                     "class (--lb-class unset)")
                       : " is not " + Quote(options_.load_balancer_class) + " (--lb-class)");
      return r;
    }
    if (s.type != "LoadBalancer") {
      r.reason = Reason::kNotLoadBalancer;
      r.message = "spec.type " + Quote(s.type) + " is not LoadBalancer";
      return r;
    }
    if (pools_.empty()) return Fail(Reason::kNoEligiblePool, "no IPAddressPool exists");
    if (req.policy == IpFamilyPolicy::kRequireDualStack && !req.dual())
      return Fail(Reason::kConflictingRequest,
                  "spec.ipFamilyPolicy RequireDualStack needs both families, but "
                  "spec.ipFamilies lists only " +
                      FamilyName(req.families));
    if (req.policy == IpFamilyPolicy::kSingleStack && req.dual())
      return Fail(Reason::kConflictingRequest,
                  "spec.ipFamilyPolicy SingleStack with two spec.ipFamilies");

    // What it holds: the status; while the status is not written yet (or names an address
    // it cannot keep), our last decision.
    std::vector<Addr> status;
    for (const auto& text : s.held) {
      if (auto parsed = community::ParseAddress(text)) {
        status.push_back(internal::FromIp(*parsed));
      } else {
        r.notes.push_back("status.loadBalancer.ingress " + Quote(text) +
                          " is not an IP address; ignored");
      }
    }
    // Our last decision first (the status may be stale while our write is on its way), then
    // the status (after a restart, the only one).
    std::vector<std::vector<Addr>> candidates;
    if (!previous.empty()) candidates.push_back(previous);
    if (!status.empty() && status != previous) candidates.push_back(status);
    if (mode_ == Mode::kKeepFirst && candidates.size() > 1) candidates.resize(1);
    if (mode_ == Mode::kKeepSecond) {
      if (candidates.size() < 2)
        candidates.clear();
      else
        candidates.erase(candidates.begin());
    }
    std::vector<Addr> keep;
    std::shared_ptr<PoolState> keep_pool;
    for (const auto& candidate : candidates) {
      keep_pool = Keepable(e, candidate, r.notes);
      if (keep_pool) {
        keep = candidate;
        break;
      }
    }
    if (!keep.empty()) {
      if (keep.size() == 1 && req.dual() && req.policy == IpFamilyPolicy::kPreferDualStack &&
          !req.desired && mode_ == Mode::kFull) {
        // PreferDualStack holding one family: add the other from the same pool if it can
        // (not when the user named the addresses: the pair would no longer be what was asked).
        const bool want_v6 = !keep[0].v6;
        if (auto other = LowestCandidate(*keep_pool, e, want_v6)) {
          keep.push_back(*other);
          r.notes.push_back("PreferDualStack: added " + internal::Format(*other) + " from pool " +
                            Quote(keep_pool->name()));
        } else if (keep_pool->families & FamilyBit(want_v6)) {
          r.notes.push_back("PreferDualStack: pool " + Quote(keep_pool->name()) + " has no free " +
                            FamilyName(FamilyBit(want_v6)) + " address; keeping " +
                            internal::Format(keep[0]) + " alone");
        }
      }
      Commit(e, keep, keep_pool);
      r.addresses = Formatted(keep);
      r.pool = keep_pool->name();
      if (req.desired_error) {
        // MetalLB keeps a valid held address while a malformed request is reported.
        r.reason = req.desired_error->reason;
        r.message = req.desired_error->message + "; keeping " + FormatAll(keep);
      }
      return r;
    }

    if (mode_ != Mode::kFull) {
      deferred_ = true;
      return r;
    }
    auto allocated = Allocate(e);
    if (!allocated) {
      Result failed = Fail(allocated.error().reason, allocated.error().message);
      failed.notes = std::move(r.notes);
      return failed;
    }
    Commit(e, allocated->first, allocated->second);
    r.addresses = Formatted(allocated->first);
    r.pool = allocated->second->name();
    return r;
  }

  // MetalLB's checks of a held address: the Service's families, the Assign check (pool,
  // serviceAllocation, sharing), the requested pool and addresses. Returns its pool, or
  // nullptr with a note saying why it goes.
  std::shared_ptr<PoolState> Keepable(const Entry& e, const std::vector<Addr>& keep,
                                      std::vector<std::string>& notes) {
    const Request& req = e.request;
    if (keep.empty()) return nullptr;
    const bool well_formed = keep.size() == 1 || (keep.size() == 2 && keep[0].v6 != keep[1].v6);
    // A held address of the wrong family goes; PreferDualStack on a dual-stack Service
    // accepts one family or both.
    const bool family_ok =
        well_formed && (FamilyBits(keep) == req.families ||
                        (req.dual() && req.policy == IpFamilyPolicy::kPreferDualStack));
    if (!family_ok) {
      notes.push_back("held " + FormatAll(keep) + " does not match spec.ipFamilies (" +
                      FamilyName(req.families) + "); replaced");
      return nullptr;
    }
    auto pool = CheckAssign(e, keep);
    if (!pool) {
      notes.push_back("held " + FormatAll(keep) + " is no longer valid (" + pool.error().message +
                      "); replaced");
      return nullptr;
    }
    if (req.pool && (*pool)->name() != req.pool->value) {
      notes.push_back("held " + FormatAll(keep) + " is in pool " + Quote((*pool)->name()) +
                      " but " + req.pool->name + " asks for " + Quote(req.pool->value) +
                      "; replaced");
      return nullptr;
    }
    if (req.desired) {
      auto a = keep;
      auto b = *req.desired;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a != b) {
        notes.push_back("held " + FormatAll(keep) + " but " + req.desired_source + " asks for " +
                        FormatAll(*req.desired) + "; replaced");
        return nullptr;
      }
    }
    return *pool;
  }

  static Result Fail(Reason reason, std::string message) {
    Result r;
    r.reason = reason;
    r.message = std::move(message);
    return r;
  }

  static std::vector<std::string> Formatted(const std::vector<Addr>& addrs) {
    std::vector<std::string> out;
    for (const auto& a : addrs) out.push_back(internal::Format(a));
    return out;
  }

  using Choice = std::pair<std::vector<Addr>, std::shared_ptr<PoolState>>;

  std::expected<Choice, Failure> Allocate(Entry& e) {
    const Request& req = e.request;
    if (req.desired_error) return std::unexpected(*req.desired_error);
    if (req.desired) {
      const int wanted = FamilyBits(*req.desired);
      if (wanted != req.families)
        return std::unexpected(Failure{Reason::kConflictingRequest,
                                       req.desired_source + " asks for " + FormatAll(*req.desired) +
                                           " (" + FamilyName(wanted) + ") but spec.ipFamilies is " +
                                           FamilyName(req.families)});
      auto pool = CheckAssign(e, *req.desired);
      if (!pool)
        return std::unexpected(
            Failure{pool.error().reason, req.desired_source + ": " + pool.error().message});
      if (req.pool && (*pool)->name() != req.pool->value)
        return std::unexpected(Failure{Reason::kConflictingRequest,
                                       req.desired_source + " asks for " + FormatAll(*req.desired) +
                                           ", which is in pool " + Quote((*pool)->name()) +
                                           ", but " + req.pool->name + " asks for pool " +
                                           Quote(req.pool->value)});
      return Choice{*req.desired, *pool};
    }
    if (req.pool) {
      auto it = pools_.find(req.pool->value);
      if (it == pools_.end())
        return std::unexpected(
            Failure{Reason::kUnknownPool,
                    req.pool->name + ": no IPAddressPool " + "named " + Quote(req.pool->value)});
      const auto& pool = it->second;
      if (auto why = NotAdmitted(*pool, e.input))
        return std::unexpected(
            Failure{Reason::kPoolNotAllowed,
                    req.pool->name + ": pool " + Quote(pool->name()) + " " + *why});
      if ((pool->families & req.families) == 0 ||
          (req.policy == IpFamilyPolicy::kRequireDualStack && pool->families != (kV4 | kV6)))
        return std::unexpected(Failure{
            Reason::kNoEligiblePool, req.pool->name + ": pool " + Quote(pool->name()) + " has no " +
                                         FamilyName(req.families & ~pool->families) +
                                         " addresses; the Service needs " +
                                         FamilyName(req.families)});
      if (auto chosen = Select(FreeFrom(*pool, e), req)) return Choice{*chosen, pool};
      return std::unexpected(
          Failure{Reason::kPoolExhausted, req.pool->name + ": pool " + Quote(pool->name()) +
                                              " has no free " + FamilyName(req.families) +
                                              " address for this Service"});
    }
    return AllocateAuto(e);
  }

  // Pools with serviceAllocation that admit the Service (by priority, then name), then
  // pools without serviceAllocation (by name); autoAssign pools only.
  std::expected<Choice, Failure> AllocateAuto(Entry& e) {
    const Request& req = e.request;
    std::vector<std::shared_ptr<PoolState>> pinned;
    std::vector<std::shared_ptr<PoolState>> open;
    std::vector<std::string> skipped;
    for (const auto& [name, pool] : pools_) {
      if (!pool->auto_assign) {
        skipped.push_back(Quote(name) + " (autoAssign false)");
      } else if (!pool->spec.service_allocation) {
        open.push_back(pool);
      } else if (auto why = NotAdmitted(*pool, e.input)) {
        skipped.push_back(Quote(name) + " (" + *why + ")");
      } else {
        pinned.push_back(pool);
      }
    }
    std::stable_sort(pinned.begin(), pinned.end(), [](const auto& a, const auto& b) {
      if ((a->priority > 0) != (b->priority > 0)) return a->priority > 0;
      return a->priority < b->priority;
    });
    std::vector<std::string> tried;
    bool family_available = false;
    for (const auto* group : {&pinned, &open}) {
      if (group->empty()) continue;
      std::optional<Choice> prefer_primary;
      std::optional<Choice> prefer_secondary;
      const bool primary_v6 = req.family_order.front();
      for (const auto& pool : *group) {
        const bool usable = req.policy == IpFamilyPolicy::kPreferDualStack
                                ? (pool->families & req.families) != 0
                                : (pool->families & req.families) == req.families;
        if (usable) family_available = true;
        tried.push_back(Quote(pool->name()));
        const Free free = FreeFrom(*pool, e);
        if (!free.v4 && !free.v6) continue;
        if (!req.dual()) {
          if (auto chosen = Select(free, req)) return Choice{*chosen, pool};
          continue;
        }
        if (free.v4 && free.v6) return Choice{*Select(free, req), pool};
        if (req.policy != IpFamilyPolicy::kPreferDualStack) continue;
        const auto& primary = primary_v6 ? free.v6 : free.v4;
        const auto& secondary = primary_v6 ? free.v4 : free.v6;
        if (primary && !prefer_primary) prefer_primary = Choice{{*primary}, pool};
        if (secondary && !prefer_secondary) prefer_secondary = Choice{{*secondary}, pool};
      }
      if (prefer_primary) return *prefer_primary;
      if (prefer_secondary) return *prefer_secondary;
    }
    if (pinned.empty() && open.empty()) {
      return std::unexpected(
          Failure{Reason::kNoEligiblePool,
                  "no IPAddressPool may assign this Service an address automatically: " +
                      Join(Limit(skipped, 5))});
    }
    if (!family_available) {
      return std::unexpected(
          Failure{Reason::kNoEligiblePool, "no IPAddressPool that may serve this Service has " +
                                               FamilyName(req.families) + " addresses (tried " +
                                               Join(Limit(tried, 5)) + ")"});
    }
    return std::unexpected(Failure{Reason::kPoolExhausted, "no free " + FamilyName(req.families) +
                                                               " address for this Service in pool" +
                                                               (tried.size() == 1 ? " " : "s ") +
                                                               Join(Limit(tried, 5))});
  }

  static std::vector<std::string> Limit(std::vector<std::string> items, std::size_t n) {
    if (items.size() > n) {
      const std::size_t more = items.size() - n;
      items.resize(n);
      items.push_back("and " + std::to_string(more) + " more");
    }
    return items;
  }

  struct Free {
    std::optional<Addr> v4;
    std::optional<Addr> v6;
  };

  // MetalLB's getFreeIPsFromPool: per family, the first CIDR (in spec order) that has an
  // address this Service may take gives its lowest such address.
  Free FreeFrom(PoolState& pool, const Entry& e) {
    Free out;
    for (const auto& range : pool.ranges) {
      auto& slot = range.first.v6 ? out.v6 : out.v4;
      if (slot) continue;
      slot = LowestIn(pool, range, e);
    }
    return out;
  }

  std::optional<Addr> LowestCandidate(PoolState& pool, const Entry& e, bool v6) {
    for (const auto& range : pool.ranges) {
      if (range.first.v6 != v6) continue;
      if (auto a = LowestIn(pool, range, e)) return a;
    }
    return std::nullopt;
  }

  // The lowest address of `range` that is free, or in use by Services this one may share
  // it with.
  std::optional<Addr> LowestIn(PoolState& pool, const Range& range, const Entry& e) {
    std::optional<Addr> best = pool.free.LowestFree(range, pool.avoid_buggy());
    if (e.request.sharing.empty()) return best;
    auto group = shared_.find({e.request.sharing, e.request.backend});
    if (group == shared_.end()) return best;
    for (auto it = group->second.lower_bound(range.first); it != group->second.end(); ++it) {
      if (range.last < *it || (best && !(*it < *best))) break;
      if (!CheckShare(*it, e)) continue;
      return *it;
    }
    return best;
  }

  static std::optional<std::vector<Addr>> Select(const Free& free, const Request& req) {
    if (!req.dual()) {
      const auto& slot = req.families == kV6 ? free.v6 : free.v4;
      if (!slot) return std::nullopt;
      return std::vector<Addr>{*slot};
    }
    if (free.v4 && free.v6) return std::vector<Addr>{*free.v4, *free.v6};
    if (req.policy == IpFamilyPolicy::kPreferDualStack) {
      if (free.v4) return std::vector<Addr>{*free.v4};
      if (free.v6) return std::vector<Addr>{*free.v6};
    }
    return std::nullopt;
  }

  // Why `pool`'s serviceAllocation does not admit `s`; nullopt when it does.
  static std::optional<std::string> NotAdmitted(const PoolState& pool, const Service& s) {
    if (!pool.spec.service_allocation) return std::nullopt;
    const auto& sa = *pool.spec.service_allocation;
    if (!sa.namespaces.empty() || !sa.namespace_selectors.empty()) {
      bool in = std::find(sa.namespaces.begin(), sa.namespaces.end(), s.namespace_name) !=
                sa.namespaces.end();
      for (const auto& sel : sa.namespace_selectors)
        if (!in && community::Matches(sel, s.namespace_labels)) in = true;
      if (!in)
        return "serviceAllocation does not admit namespace " + Quote(s.namespace_name) +
               " (namespaces or namespaceSelectors)";
    }
    if (!sa.service_selectors.empty()) {
      for (const auto& sel : sa.service_selectors)
        if (community::Matches(sel, s.labels)) return std::nullopt;
      return std::string("serviceAllocation.serviceSelectors match none of the Service's labels");
    }
    return std::nullopt;
  }

  // MetalLB's Assign check: one pool holds every address (and not as a .0/.255 it avoids),
  // that pool admits the Service, and each address is free or shareable with it.
  std::expected<std::shared_ptr<PoolState>, Failure> CheckAssign(const Entry& e,
                                                                 const std::vector<Addr>& addrs) {
    std::shared_ptr<PoolState> pool;
    for (const auto& a : addrs) {
      auto p = PoolOf(a);
      if (!p)
        return std::unexpected(
            Failure{Reason::kOutsidePools, internal::Format(a) + " is in no IPAddressPool"});
      if (p->avoid_buggy() && internal::Buggy(a))
        return std::unexpected(
            Failure{Reason::kOutsidePools, internal::Format(a) + " ends in .0 or .255 and pool " +
                                               Quote(p->name()) + " sets avoidBuggyIPs"});
      if (pool && pool != p)
        return std::unexpected(Failure{Reason::kConflictingRequest,
                                       FormatAll(addrs) + " are in different pools (" +
                                           Quote(pool->name()) + ", " + Quote(p->name()) + ")"});
      pool = p;
    }
    if (auto why = NotAdmitted(*pool, e.input))
      return std::unexpected(
          Failure{Reason::kPoolNotAllowed, "pool " + Quote(pool->name()) + " " + *why});
    for (const auto& a : addrs)
      if (auto refused = CheckShare(a, e); !refused) return std::unexpected(refused.error());
    return pool;
  }

  // MetalLB's checkSharing: `a` unused, or used by Services with the same sharing key and
  // backend key and none of this Service's ports.
  std::expected<void, Failure> CheckShare(const Addr& a, const Entry& e) const {
    auto it = uses_.find(a);
    if (it == uses_.end()) return {};
    const Use& use = it->second;
    const Entry* other = use.holders.front();
    const std::string where = internal::Format(a) + " is held by " + Safe(other->result.key);
    if (use.sharing.empty())
      return std::unexpected(
          Failure{Reason::kAddressInUse, where + ", which does not allow sharing (no " +
                                             std::string(kAllowSharedIpAnnotation) + ")"});
    if (e.request.sharing.empty())
      return std::unexpected(
          Failure{Reason::kAddressInUse, where + " (sharing key " + Quote(use.sharing) +
                                             "); this Service has no " +
                                             std::string(kAllowSharedIpAnnotation)});
    if (use.sharing != e.request.sharing)
      return std::unexpected(
          Failure{Reason::kSharingRefused, where + " with sharing key " + Quote(use.sharing) +
                                               ", this Service has " + Quote(e.request.sharing)});
    if (use.backend != e.request.backend)
      return std::unexpected(Failure{
          Reason::kSharingRefused, where + " with " + DescribeBackend(use.backend) +
                                       ", this Service has " + DescribeBackend(e.request.backend)});
    for (const Entry* h : use.holders) {
      for (const auto& p : e.input.ports) {
        if (std::find(h->input.ports.begin(), h->input.ports.end(), p) != h->input.ports.end())
          return std::unexpected(Failure{Reason::kSharingRefused,
                                         "port " + Safe(p.protocol) + "/" + std::to_string(p.port) +
                                             " of " + internal::Format(a) + " is already used by " +
                                             Safe(h->result.key)});
      }
    }
    return {};
  }

  std::shared_ptr<PoolState> PoolOf(const Addr& a) const {
    auto it = std::upper_bound(index_.begin(), index_.end(), a,
                               [](const Addr& x, const Indexed& r) { return x < r.range.first; });
    if (it == index_.begin()) return nullptr;
    --it;
    if (it->range.last < a) return nullptr;
    return it->pool;
  }

  void RebuildIndex() {
    index_.clear();
    for (const auto& [name, pool] : pools_)
      for (const auto& r : pool->ranges) index_.push_back({r, pool});
    std::sort(index_.begin(), index_.end(),
              [](const Indexed& a, const Indexed& b) { return a.range.first < b.range.first; });
  }

  void Commit(Entry& e, const std::vector<Addr>& addrs, const std::shared_ptr<PoolState>& pool) {
    if (tracker_ && !addrs.empty()) tracker_->NotePool(pool->name());
    e.addrs = addrs;
    e.pool = pool;
    for (const auto& a : addrs) {
      auto [it, fresh] = uses_.try_emplace(a);
      Use& use = it->second;
      if (fresh) {
        use.sharing = e.request.sharing;
        use.backend = e.request.backend;
        use.pool = pool;
        pool->free.Take(a);
        (a.v6 ? pool->used_v6 : pool->used_v4)++;
        if (!use.sharing.empty()) {
          shared_[{use.sharing, use.backend}].insert(a);
          if (tracker_) tracker_->retry = true;  // someone waiting may share it
        }
      }
      use.holders.push_back(&e);
    }
  }

  void Release(Entry& e) {
    if (tracker_ && e.pool) tracker_->NotePool(e.pool->name());
    for (const auto& a : e.addrs) {
      auto it = uses_.find(a);
      if (it == uses_.end()) continue;
      Use& use = it->second;
      std::erase(use.holders, &e);
      if (!use.holders.empty()) continue;
      use.pool->free.Release(a);
      (a.v6 ? use.pool->used_v6 : use.pool->used_v4)--;
      if (!use.sharing.empty()) {
        auto group = shared_.find({use.sharing, use.backend});
        if (group != shared_.end()) {
          group->second.erase(a);
          if (group->second.empty()) shared_.erase(group);
        }
      }
      uses_.erase(it);
    }
    e.addrs.clear();
    e.pool.reset();
  }

  struct Indexed {
    Range range;
    std::shared_ptr<PoolState> pool;
  };

  Options options_;
  Tracker* tracker_ = nullptr;  // the call in progress
  // While released Services are judged again (Rejudge): keep what is valid, take nothing
  // new (no PreferDualStack addition either), so that no Service takes an address another
  // one has yet to keep; the rest waits for RetryWaiting.
  enum class Mode { kFull, kKeepFirst, kKeepSecond };
  Mode mode_ = Mode::kFull;
  bool deferred_ = false;  // set by Decide in a keep mode when it kept nothing
  std::map<std::string, std::shared_ptr<PoolState>, std::less<>> pools_;
  std::vector<Indexed> index_;  // every pool's ranges, by first address
  std::unordered_map<std::string, Entry> services_;
  struct KeyLess {
    bool operator()(const Entry* a, const Entry* b) const { return a->result.key < b->result.key; }
  };
  // Services to judge again when an address frees: failed ones of ours that hold nothing,
  // PreferDualStack ones holding one family, released ones not judged yet. By key.
  std::unordered_set<Entry*> waiting_;
  std::unordered_map<Addr, Use, AddrHash> uses_;
  std::map<std::pair<std::string, std::string>, std::set<Addr>> shared_;  // (sharing, backend)
};

Allocator::Allocator(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Allocator::~Allocator() = default;
Allocator::Allocator(Allocator&&) noexcept = default;
Allocator& Allocator::operator=(Allocator&&) noexcept = default;

std::expected<Changes, std::vector<community::Diagnostic>> Allocator::SetPools(
    std::vector<community::AddressPool> pools) {
  return impl_->SetPools(std::move(pools));
}
Changes Allocator::Upsert(const Service& service) { return impl_->Upsert(service); }
Changes Allocator::UpsertAll(std::span<const Service> services) {
  return impl_->UpsertAll(services);
}
Changes Allocator::Remove(std::string_view key) { return impl_->Remove(key); }
const Result* Allocator::Find(std::string_view key) const { return impl_->Find(key); }
std::optional<PoolCounts> Allocator::Counts(std::string_view pool) const {
  return impl_->Counts(pool);
}
std::map<std::string, PoolCounts, std::less<>> Allocator::AllCounts() const {
  return impl_->AllCounts();
}
std::size_t Allocator::size() const { return impl_->size(); }

std::expected<Allocation, std::vector<community::Diagnostic>> AllocateAll(
    std::vector<community::AddressPool> pools, std::span<const Service> services,
    const Options& options) {
  Allocator allocator(options);
  if (auto set = allocator.SetPools(std::move(pools)); !set) return std::unexpected(set.error());
  allocator.UpsertAll(services);
  Allocation out;
  out.results.reserve(services.size());
  for (const auto& s : services) out.results.push_back(*allocator.Find(s.Key()));
  out.counts = allocator.AllCounts();
  return out;
}

}  // namespace bgpcomm::allocator
