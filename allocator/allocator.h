// The allocation core: which LoadBalancer Service holds which IPAddressPool address, as
// MetalLB 0.16's controller decides it (DESIGN.md "Address allocation", allocator/README.md
// for every rule and where bgpcomm differs on purpose). Pure: no I/O, no clock, no threads;
// the caller serialises calls.
//
// Two ways in:
//   - Allocator: incremental, for the controller. SetPools/Upsert/Remove cost in proportion
//     to what changed and return which Services' results and which pools' counts changed.
//   - AllocateAll: one-shot, for `bgpcomm routes` and tests.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "allocator/service.h"
#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::allocator {

struct Options {
  // --lb-class: empty serves only Services without spec.loadBalancerClass; otherwise only
  // Services whose class equals it.
  std::string load_balancer_class;
};

// An IPAddressPool's status counts (MetalLB 0.15+ field names). Shared addresses count
// once. An IPv6 range of 2^62 addresses or more counts as INT64_MAX available, as MetalLB.
struct PoolCounts {
  std::int64_t assigned_ipv4 = 0;
  std::int64_t assigned_ipv6 = 0;
  std::int64_t available_ipv4 = 0;
  std::int64_t available_ipv6 = 0;
  bool operator==(const PoolCounts&) const = default;
};

// What a mutating call changed: Services whose Result differs (write their status, record
// Events) and pools whose counts differ (write their status, metrics). Sorted, unique.
struct Changes {
  std::vector<std::string> services;  // keys "namespace/name"
  std::vector<std::string> pools;     // pool names
  bool empty() const { return services.empty() && pools.empty(); }
  bool operator==(const Changes&) const = default;
};

// The checks a set of pools must pass before the allocator takes it (MetalLB refuses the
// whole configuration the same way): names unique and non-empty, at least one address,
// every address a CIDR or range, no overlap within or between pools, serviceAllocation
// namespaces unique and selectors well-formed. Each problem is `field: message` under
// "<pool>.spec...".
std::vector<community::Diagnostic> ValidatePools(std::span<const community::AddressPool> pools);

class Allocator {
 public:
  explicit Allocator(Options options = {});
  ~Allocator();
  Allocator(Allocator&&) noexcept;
  Allocator& operator=(Allocator&&) noexcept;
  Allocator(const Allocator&) = delete;
  Allocator& operator=(const Allocator&) = delete;

  // Replaces the pools. A set that fails ValidatePools is refused whole and the previous
  // pools stay. Services holding addresses in pools that changed or went away are
  // re-judged (a held address still in its pool and still allowed stays), then every
  // Service without an address is retried.
  std::expected<Changes, std::vector<community::Diagnostic>> SetPools(
      std::vector<community::AddressPool> pools);

  // Adds or updates one Service and decides its addresses. What it holds is, first, what
  // this allocator last gave it (the status may lag behind), then `service.held` (after a
  // restart, the only one); kept while valid, else replaced by the lowest free address. If
  // an address was freed or became shareable, Services waiting for one are retried (in key
  // order). An input equal to the last one (with the status empty or equal to the
  // decision) is a no-op.
  Changes Upsert(const Service& service);
  // The same for many Services at once (the initial list of a sync): Services that hold
  // addresses in their status are judged first, so that no new Service takes an address
  // another one already holds; then the others in key order.
  Changes UpsertAll(std::span<const Service> services);
  // Forgets a Service and frees its addresses; waiting Services are retried.
  Changes Remove(std::string_view key);

  // The current decision for a Service; nullptr when it is unknown.
  const Result* Find(std::string_view key) const;
  // Counts for a pool; nullopt when no such pool is set.
  std::optional<PoolCounts> Counts(std::string_view pool) const;
  // Every pool's counts, by name.
  std::map<std::string, PoolCounts, std::less<>> AllCounts() const;
  // Number of Services known (any result).
  std::size_t size() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

struct Allocation {
  std::vector<Result> results;  // one per input Service, in input order
  std::map<std::string, PoolCounts, std::less<>> counts;
};

// Decides every Service at once from scratch (UpsertAll on a fresh Allocator): what
// `bgpcomm routes` predicts. Refused when the pools fail ValidatePools.
std::expected<Allocation, std::vector<community::Diagnostic>> AllocateAll(
    std::vector<community::AddressPool> pools, std::span<const Service> services,
    const Options& options = {});

}  // namespace bgpcomm::allocator
