// The resolver keeps every stored advertisement's resolution current: when a Community
// changes (or, under --unresolved-aliases=warn, an alias appears), it rewrites the
// bgpcomm.io/resolved-communities annotation of each affected BGPAdvertisement. Only
// the leader (a coordination.k8s.io Lease) writes.
#pragma once

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>

#include "community/admission.h"
#include "kube/client.h"
#include "webhook/metallb_cache.h"
#include "webhook/metrics.h"

namespace bgpcomm::webhook {

struct ResolverCounts {
  int rewritten = 0;
  int unchanged = 0;
  int unadmitted = 0;    // never admitted by bgpcomm (no annotation): left alone
  int unresolvable = 0;  // left as stored: an entry no longer resolves
  int failed = 0;        // the PATCH failed (conflict, API error); retried
};

class Resolver {
 public:
  Resolver(kube::Client& client, const MetallbCache& cache, std::string namespace_name,
           community::AdmissionOptions options, WebhookMetrics& metrics);

  // Asks for a pass soon (coalesced with other requests).
  void Trigger();
  // One pass over the namespace's advertisements as the cache holds them: each whose
  // stored resolution differs from a fresh one is patched (guarded by its
  // resourceVersion, so a concurrent edit wins and the next pass looks again).
  ResolverCounts Pass();
  // Runs passes when triggered and every `resync`, while `is_leader()`, until `stop`.
  void Run(std::stop_token stop, const std::function<bool()>& is_leader,
           std::chrono::seconds resync = std::chrono::seconds(60));

 private:
  kube::Client& client_;
  const MetallbCache& cache_;
  std::string namespace_;
  community::AdmissionOptions options_;
  WebhookMetrics& metrics_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool triggered_ = true;
};

}  // namespace bgpcomm::webhook
