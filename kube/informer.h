// An informer: a Reflector feeding a store of one resource's objects keyed by
// `namespace/name`, with add/update/delete handlers and a synced signal.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "kube/clock.h"
#include "kube/reflector.h"

namespace bgpcomm::kube {

// Handlers run on the informer's thread, one event at a time, after the store changed.
struct InformerHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

struct InformerOptions {
  // `reflector.decode` decides what the store keeps of each object beyond its identity.
  ReflectorOptions reflector;
  // Injected waiting and jitter; nullptr: real ones owned by the informer.
  Sleeper* sleeper = nullptr;
  Random* random = nullptr;
};

class Informer : private ReflectorSink {
 public:
  // Watches `resource` in namespace `ns` (empty: all namespaces). `client` must outlive it.
  Informer(Client& client, Resource resource, std::string ns, InformerOptions options = {});
  ~Informer() override;
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Adds handlers; call before Start().
  void AddHandlers(InformerHandlers handlers);
  // Starts listing and watching on a thread of its own.
  void Start();
  // Stops the thread; the store keeps its contents.
  void Stop();

  // True once the first LIST has been stored and every handler has seen it (stays true).
  bool HasSynced() const;
  // Waits up to `timeout` for HasSynced().
  bool WaitForSync(Duration timeout) const;

  // Every stored object, ordered by key.
  std::vector<ObjectPtr> List() const;
  // The stored objects of namespace `ns`, ordered by name.
  std::vector<ObjectPtr> ListNamespace(std::string_view ns) const;
  // One object, or nullptr.
  ObjectPtr Get(std::string_view ns, std::string_view name) const;

  const Resource& resource() const { return resource_; }
  const Reflector& reflector() const { return reflector_; }

 private:
  void Replace(std::vector<Object> objects, const std::string& resource_version) override;
  void Apply(WatchEventType type, Object object) override;

  Resource resource_;
  RealSleeper real_sleeper_;
  RealRandom real_random_;
  Reflector reflector_;
  std::vector<InformerHandlers> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable synced_cv_;
  bool synced_ = false;
  std::map<std::string, ObjectPtr, std::less<>> store_;
  std::jthread thread_;
};

}  // namespace bgpcomm::kube
