// The resolver keeps every stored advertisement's resolution current: when a Community
// changes (or, under --unresolved-aliases=warn, an alias appears), it rewrites the
// bgpcomm.io/resolved-communities annotation of each affected BGPAdvertisement. Only
// the leader (a coordination.k8s.io Lease) writes. An alias change looks only at the
// advertisements that reference the alias (the view's index); a full pass runs on
// leadership and every resync.
#pragma once

#include <condition_variable>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "community/admission.h"
#include "kube/client.h"
#include "webhook/cluster_view.h"
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
  // `view` is the incremental view of `namespace_name` fed by `cache`; both outlive this.
  Resolver(kube::Client& client, const MetallbCache& cache, const IncrementalNamespace& view,
           std::string namespace_name, community::AdmissionOptions options,
           WebhookMetrics& metrics);

  // Asks for a full pass soon (coalesced with other requests).
  void Trigger();
  // Asks for the advertisements `names` to be looked at soon (coalesced into one batch).
  void Trigger(std::vector<std::string> names);
  // One pass over the namespace's advertisements as the cache holds them: each whose
  // stored resolution differs from a fresh one is patched (guarded by its
  // resourceVersion, so a concurrent edit wins and the next pass looks again).
  ResolverCounts Pass();
  // The same for the advertisements `names` only (absent ones are skipped). `retry`, when
  // given, receives the names whose PATCH failed.
  ResolverCounts PassOver(const std::vector<std::string>& names,
                          std::vector<std::string>* retry = nullptr);
  // Runs passes when triggered and every `resync`, while `is_leader()`, until `stop`.
  void Run(std::stop_token stop, const std::function<bool()>& is_leader,
           std::chrono::seconds resync = std::chrono::seconds(60));

 private:
  kube::Client& client_;
  // Looks at one stored advertisement against `aliases`.
  void ResolveOne(const kube::ObjectPtr& object, const community::AliasTable& aliases,
                  ResolverCounts& counts, std::vector<std::string>* retry);

  const MetallbCache& cache_;
  const IncrementalNamespace& view_;
  std::string namespace_;
  community::AdmissionOptions options_;
  WebhookMetrics& metrics_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool triggered_ = true;         // a full pass is due
  std::set<std::string> pending_;  // advertisements due for a look
};

}  // namespace bgpcomm::webhook
