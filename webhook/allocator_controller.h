// The allocator controller: gives every `type: LoadBalancer` Service of ours its
// addresses from the IPAddressPools, as MetalLB's controller does. It watches Services
// (all namespaces), IPAddressPools (the metallb namespace) and Namespaces (their labels),
// feeds what changes into the pure allocation core (allocator::Allocator), and, while this
// process leads (the resolver's Lease), writes what the core decides:
//   - status.loadBalancer.ingress through the Service's status subresource: a PUT of the
//     version the decision was made from, so its resourceVersion guards the write; a
//     conflict is re-read (the watch delivers the newer version) and decided again, never
//     overwritten. Cleared when a Service stops being a LoadBalancer;
//   - Events on the Service: IPAllocated, AllocationFailed with the core's reason (a
//     malformed annotation names the annotation and its value);
//   - each pool's status counts (assignedIPv4/IPv6, availableIPv4/IPv6) through the
//     pool's status subresource;
//   - gauges bgpcomm_allocator_addresses_in_use / _total per pool.
#pragma once

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "allocator/allocator.h"
#include "kube/client.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "webhook/allocator_status.h"

namespace bgpcomm::webhook {

struct AllocatorControllerOptions {
  // Namespace of the IPAddressPools (--namespace).
  std::string pool_namespace;
  // --lb-class: only Services of this spec.loadBalancerClass; empty: only those without.
  std::string lb_class;
  // Status writes in flight at once (each is one HTTPS request).
  int writers = 4;
  // Every Service is fed and checked again this often.
  std::chrono::seconds resync = std::chrono::minutes(5);
  // A pool's status counts are written at most once per this interval (the latest counts;
  // the per-pool metrics follow every pass): a burst of Services costs a few pool writes,
  // not one per Service.
  std::chrono::milliseconds pool_status_interval = std::chrono::seconds(1);
  // Events give way to addresses: while Service statuses are being written (one written
  // within `busy_window`), at most one Event is recorded per `busy_event_interval`; the
  // rest follow at full speed once the writes stop. A bulk create of thousands of Services
  // gets its addresses first and its IPAllocated Events a little later.
  std::chrono::milliseconds busy_window = std::chrono::seconds(1);
  std::chrono::milliseconds busy_event_interval = std::chrono::milliseconds(100);
  kube::InformerOptions informer;
};

// Counts of one pass, for logs and tests.
struct AllocatorPassCounts {
  int written = 0;    // Service status written (assigned, changed or cleared)
  int failed = 0;     // Services denied an address (Event AllocationFailed)
  int conflicts = 0;  // writes refused (409): decided again from the newer version
  int errors = 0;     // other API errors; retried
  int not_leading = 0;  // not written: leadership ended during the pass
};

// The parts of a Service the informer keeps: the core's view of it and its JSON text (a
// status update is the whole object with a new status).
struct StoredService {
  allocator::Service service;  // without namespace_labels (filled in when fed)
  std::string json;
};
struct StoredPool {
  community::AddressPool pool;
  std::optional<allocator::PoolCounts> status;  // as stored; nullopt: none
  std::string json;
};
StoredService DecodeStoredService(const rapidjson::Value& object);
// A cached StoredService as the admission view reads Services (ClusterView::CacheServices):
// its name, type and the addresses its status holds. nullopt when not decoded.
std::optional<community::ServiceObject> ServiceObjectOf(const kube::Object& object);
StoredPool DecodeStoredPool(const rapidjson::Value& object);

class AllocatorController {
 public:
  // `client`, `events` and `registry` must outlive the controller.
  AllocatorController(kube::Client& client, kube::EventRecorder& events,
                      prometheus::Registry& registry, AllocatorControllerOptions options);
  ~AllocatorController();
  AllocatorController(const AllocatorController&) = delete;
  AllocatorController& operator=(const AllocatorController&) = delete;

  // Starts (stops) the three informers and the Event thread. The informers run whether
  // this process leads or not, so that a new leader decides from a warm cache.
  void Start();
  void Stop();
  bool HasSynced() const;
  // The informer of every Service (decoded as StoredService), shared with the admission
  // view (ServiceObjectOf) so that the API server feeds one watch of Services, not two.
  const kube::Informer& services() const { return *services_; }

  // Decides and writes while `is_leader()`, until `stop`: every Service from a fresh core
  // when leadership starts, every Service again every `resync`, otherwise what changed.
  // Leadership is asked again before each status write: a write after the term ended is
  // not sent (the Service is looked at again by the next leader's full pass).
  void Run(std::stop_token stop, const std::function<bool()>& is_leader);
  // Asked before each status write (Run() sets it to its `is_leader`).
  void GuardWrites(std::function<bool()> may_write) { may_write_ = std::move(may_write); }
  // Each status write is given at most this long (kube::CallDeadline): the time left of
  // the leader's term.
  void BoundWrites(std::function<kube::Duration()> time_left) { time_left_ = std::move(time_left); }

  // One pass: `full` starts from a fresh core fed with everything cached; otherwise only
  // what changed since the last pass is fed. What Run() calls.
  AllocatorPassCounts Pass(bool full);

 private:
  std::function<bool()> may_write_;
  std::function<kube::Duration()> time_left_;
  bool MayWrite() const { return !may_write_ || may_write_(); }
  kube::Duration WriteTime() const {
    return time_left_ ? time_left_() : kube::Duration::max() / 2;
  }

  struct Work {
    std::string key;
    std::shared_ptr<const StoredService> from;  // the version decided from
    std::vector<std::string> addresses;          // empty: clear
  };

  void MarkService(std::string key);
  void MarkConfig();
  allocator::Service Feedable(const StoredService& stored) const;
  void Handle(const allocator::Changes& changes, std::set<std::string>& services,
              std::set<std::string>& pools);
  AllocatorPassCounts WriteAll(std::vector<Work> work);
  void WriteOne(const Work& work, AllocatorPassCounts& counts, std::mutex& counts_mutex);
  void WritePools(const std::set<std::string>& pools);
  void Emit(const kube::ObjectReference& object, kube::EventType type, std::string reason,
            std::string message);
  void EventLoop(std::stop_token stop);

  kube::Client& client_;
  kube::EventRecorder& events_;
  AllocatorControllerOptions options_;
  prometheus::Family<prometheus::Gauge>& in_use_;
  prometheus::Family<prometheus::Gauge>& total_;
  std::unique_ptr<kube::Informer> services_;
  std::unique_ptr<kube::Informer> pools_;
  std::unique_ptr<kube::Informer> namespaces_;

  // Touched only by the thread running Pass().
  std::unique_ptr<allocator::Allocator> core_;
  std::set<std::string> unwritten_pools_;  // pool status writes to retry or still due
  std::map<std::string, std::chrono::steady_clock::time_point> pool_written_;  // last write
  // The allocator's ConfigurationState (written from Pass(), so by the leader only).
  AllocatorStatus status_;

  // Changes seen by the informers' threads, taken by Pass().
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::set<std::string> dirty_services_;
  std::set<std::string> dirty_namespaces_;
  bool pools_changed_ = false;

  // Events are recorded on a thread of their own, so that a slow Event create never
  // delays an address; under a flood the queue is bounded and Events give way.
  struct PendingEvent {
    kube::ObjectReference object;
    kube::EventType type = kube::EventType::kNormal;
    std::string reason;
    std::string message;
  };
  std::mutex events_mutex_;
  std::condition_variable_any events_wake_;
  std::deque<PendingEvent> pending_events_;
  // When a Service status was last written (steady_clock ticks): Events give way while recent.
  std::atomic<std::chrono::steady_clock::rep> last_status_write_{0};
  void MarkWriting();
  bool WritingStatuses() const;
  std::jthread events_thread_;
};

}  // namespace bgpcomm::webhook
