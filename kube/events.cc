#include "kube/events.h"

#include <cstdio>

#include "kube/leader_election.h"

namespace bgpcomm::kube {
namespace {

constexpr std::size_t kMaxMessage = 1024;
constexpr std::size_t kMaxRemembered = 4096;

}  // namespace

ObjectReference ReferenceTo(const Resource& resource, const Object& object) {
  return {resource.ApiVersion(), resource.kind, object.namespace_name,
          object.name,           object.uid,    object.resource_version};
}

EventRecorder::EventRecorder(Client& client, const Clock& clock, EventRecorderOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

std::expected<void, Error> EventRecorder::Record(const ObjectReference& object, EventType type,
                                                 std::string_view reason,
                                                 std::string_view message) {
  const TimePoint now = clock_.Now();
  const std::string ns = object.namespace_name.empty() ? "default" : object.namespace_name;
  const std::string type_name = type == EventType::kNormal ? "Normal" : "Warning";
  std::string text(message.substr(0, kMaxMessage));
  // The seconds form (RFC 3339 without fraction) is what Event timestamps carry.
  std::string timestamp = FormatMicroTime(std::chrono::floor<std::chrono::seconds>(now));
  timestamp = timestamp.substr(0, 19) + "Z";
  const std::string key = ns + "\x1f" + object.kind + "\x1f" + object.name + "\x1f" + object.uid +
                          "\x1f" + type_name + "\x1f" + std::string(reason) + "\x1f" + text;

  std::optional<Seen> repeat;
  {
    std::lock_guard lock(mu_);
    auto it = seen_.find(key);
    if (it != seen_.end() && now - it->second.last < options_.aggregation_window)
      repeat = it->second;
  }
  if (repeat) {
    nlohmann::json patch = {{"count", repeat->count + 1}, {"lastTimestamp", timestamp}};
    auto patched =
        client_.Patch(resources::kEvents, ns, repeat->event_name, PatchType::kMerge, patch.dump());
    if (patched) {
      std::lock_guard lock(mu_);
      seen_[key] = {ns, repeat->event_name, repeat->count + 1, now};
      return {};
    }
    if (!patched.error().IsNotFound()) return std::unexpected(patched.error());
    // The Event expired (TTL) or was deleted: create a new one.
  }

  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(nanos));
  const std::string name = object.name + suffix;
  nlohmann::json involved = {
      {"apiVersion", object.api_version}, {"kind", object.kind}, {"name", object.name}};
  if (!object.namespace_name.empty()) involved["namespace"] = object.namespace_name;
  if (!object.uid.empty()) involved["uid"] = object.uid;
  if (!object.resource_version.empty()) involved["resourceVersion"] = object.resource_version;
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"involvedObject", involved},
      {"reason", std::string(reason)},
      {"message", text},
      {"type", type_name},
      {"count", 1},
      {"firstTimestamp", timestamp},
      {"lastTimestamp", timestamp},
      {"source", {{"component", options_.component}, {"host", options_.instance}}},
      {"reportingComponent", options_.component},
      {"reportingInstance", options_.instance},
  };
  auto created = client_.Create(resources::kEvents, ns, event);
  if (!created) return std::unexpected(created.error());
  std::lock_guard lock(mu_);
  if (seen_.size() >= kMaxRemembered) seen_.clear();
  seen_[key] = {ns, name, 1, now};
  return {};
}

}  // namespace bgpcomm::kube
