#include "allocator/allocator.h"

#include <algorithm>
#include <unordered_map>

namespace bgpcomm::allocator {

// Placeholder bodies so that the API builds while the rules are written: every Service is
// refused with a message saying so.

std::vector<community::Diagnostic> ValidatePools(std::span<const community::AddressPool>) {
  return {};
}

class Allocator::Impl {
 public:
  Options options;
  std::unordered_map<std::string, Result> results;
};

Allocator::Allocator(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}
Allocator::~Allocator() = default;
Allocator::Allocator(Allocator&&) noexcept = default;
Allocator& Allocator::operator=(Allocator&&) noexcept = default;

std::expected<Changes, std::vector<community::Diagnostic>> Allocator::SetPools(
    std::vector<community::AddressPool>) {
  return Changes{};
}

Changes Allocator::Upsert(const Service& service) {
  Result result{.key = service.Key(),
                .reason = Reason::kNoEligiblePool,
                .message = "the allocator is not implemented yet"};
  impl_->results[result.key] = result;
  return Changes{.services = {result.key}};
}

Changes Allocator::UpsertAll(std::span<const Service> services) {
  Changes out;
  for (const auto& s : services) out.services.push_back(Upsert(s).services.front());
  std::sort(out.services.begin(), out.services.end());
  return out;
}

Changes Allocator::Remove(std::string_view key) {
  if (impl_->results.erase(std::string(key)) == 0) return {};
  return Changes{.services = {std::string(key)}};
}

const Result* Allocator::Find(std::string_view key) const {
  auto it = impl_->results.find(std::string(key));
  return it == impl_->results.end() ? nullptr : &it->second;
}

std::optional<PoolCounts> Allocator::Counts(std::string_view) const { return std::nullopt; }

std::map<std::string, PoolCounts, std::less<>> Allocator::AllCounts() const { return {}; }

std::size_t Allocator::size() const { return impl_->results.size(); }

std::expected<Allocation, std::vector<community::Diagnostic>> AllocateAll(
    std::vector<community::AddressPool> pools, std::span<const Service> services,
    const Options& options) {
  Allocator allocator(options);
  if (auto set = allocator.SetPools(std::move(pools)); !set) return std::unexpected(set.error());
  allocator.UpsertAll(services);
  Allocation out;
  for (const auto& s : services) out.results.push_back(*allocator.Find(s.Key()));
  out.counts = allocator.AllCounts();
  return out;
}

}  // namespace bgpcomm::allocator
