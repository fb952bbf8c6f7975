// Kubernetes Events (core/v1) about objects, e.g. a BGPAdvertisement the speaker will
// not announce. Repeats of the same event within `aggregation_window` raise its count
// instead of creating new Events.
#pragma once

#include <expected>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "kube/client.h"
#include "kube/clock.h"

namespace bgpcomm::kube {

// The object an Event is about (core/v1 ObjectReference).
struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
};

// The reference to `object`, of type `resource`.
ObjectReference ReferenceTo(const Resource& resource, const Object& object);

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  // `source.component` and `reportingComponent`, e.g. `bgpcomm-speaker`.
  std::string component;
  // `source.host` and `reportingInstance`, e.g. the node or pod name.
  std::string instance;
  Duration aggregation_window = std::chrono::minutes(10);
};

class EventRecorder {
 public:
  // `client` and `clock` must outlive the recorder.
  EventRecorder(Client& client, const Clock& clock, EventRecorderOptions options);

  // Creates an Event in the object's namespace (`default` for cluster-scoped objects),
  // or raises the count of the same event recorded within the aggregation window.
  // `reason` is UpperCamelCase (`UnresolvedCommunities`); messages are cut at 1024 bytes.
  std::expected<void, Error> Record(const ObjectReference& object, EventType type,
                                    std::string_view reason, std::string_view message);

 private:
  struct Seen {
    std::string namespace_name;
    std::string event_name;
    std::int64_t count = 0;
    TimePoint last;
  };

  Client& client_;
  const Clock& clock_;
  EventRecorderOptions options_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;
};

}  // namespace bgpcomm::kube
