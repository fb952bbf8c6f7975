#include "webhook/allocator_status.h"

#include <ctime>

namespace bgpcomm::webhook {
namespace {

std::string Rfc3339Now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

AllocatorStatus::AllocatorStatus(kube::Client& client, std::string namespace_name,
                                 std::chrono::milliseconds interval)
    : namespace_name_(std::move(namespace_name)),
      interval_(interval),
      writer_(client, {.owner = nullptr, .thread_name = "allocator-status"}) {}

void AllocatorStatus::Start() {
  writer_.Release();
  writer_.Start();
}

void AllocatorStatus::Stop() { writer_.Stop(); }

void AllocatorStatus::PoolsJudged(const std::vector<community::Diagnostic>& errors) {
  std::vector<std::string> messages;
  for (const community::Diagnostic& d : errors) messages.push_back(d.ToString());
  objectjson::ConfigurationStatus next =
      objectjson::AllocatorConfiguration(messages, previous_, Rfc3339Now());
  if (judged_ && next == previous_) return;
  judged_ = true;
  previous_ = next;
  writer_.Set({.resource = objectjson::kConfigurationStates,
               .namespace_name = namespace_name_,
               .name = kAllocatorConfigurationName,
               .labels = {{objectjson::kComponentLabel, "allocator"}},
               .status = objectjson::ConfigurationStatusJson(next)},
              interval_);
}

}  // namespace bgpcomm::webhook
