// LIST then WATCH one collection forever: resume from the last resourceVersion seen
// (bookmarks advance it), relist on 410 Gone (HTTP status or ERROR event), reconnect
// with capped exponential backoff and jitter. A relist after 410 waits a random part of
// `relist_jitter` (every watcher of a compacted apiserver gets its 410 at once) and
// reads the API server's watch cache (resourceVersion=0), not etcd; a failed one is
// retried from etcd. An ERROR event is not progress: it never resets the backoff.
#pragma once

#include <atomic>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/clock.h"

namespace bgpcomm::kube {

// Receives what the reflector learns, on the reflector's thread, in order.
class ReflectorSink {
 public:
  virtual ~ReflectorSink() = default;
  // A full LIST: `objects` is the complete current state at `resource_version`.
  virtual void Replace(std::vector<Object> objects, const std::string& resource_version) = 0;
  // An ADDED, MODIFIED or DELETED event (never BOOKMARK or ERROR), its object decoded.
  virtual void Apply(WatchEventType type, Object object) = 0;
};

struct ReflectorOptions {
  ListOptions list;
  // Decodes each listed or watched object once, as it arrives (Object::decoded).
  Decoder decode;
  // `timeoutSeconds` of each WATCH; the stream is reopened from the last resourceVersion.
  std::chrono::seconds watch_timeout = std::chrono::minutes(5);
  Backoff::Options backoff;
  // A relist after 410 Gone first waits uniformly in [0, relist_jitter).
  Duration relist_jitter = std::chrono::seconds(2);
};

class Reflector {
 public:
  // `client`, `sink`, `sleeper` and `random` must outlive the reflector.
  Reflector(Client& client, Resource resource, std::string ns, ReflectorSink& sink,
            Sleeper& sleeper, Random& random, ReflectorOptions options = {});

  // Lists and watches until `stop` is requested. Failures are retried, never returned.
  void Run(std::stop_token stop);

  // The resourceVersion a new WATCH would resume from (empty before the first LIST).
  std::string LastResourceVersion() const;
  // Number of completed LISTs (1 after the initial sync; each relist adds one).
  int ListCount() const { return list_count_.load(); }
  // The most recent failure, for logs and readiness details.
  std::string LastError() const;

 private:
  void SetResourceVersion(const std::string& rv);
  // Records and logs a failed LIST or watch; Recovered logs the first success after one.
  void SetError(const Error& error);
  void Recovered();

  Client& client_;
  Resource resource_;
  std::string namespace_;
  ReflectorSink& sink_;
  Sleeper& sleeper_;
  Random& random_;
  ReflectorOptions options_;
  mutable std::mutex mu_;
  std::string resource_version_;
  std::string last_error_;
  bool failing_ = false;  // since the last failure, nothing succeeded (Run's thread only)
  std::atomic<int> list_count_{0};
};

}  // namespace bgpcomm::kube
