// The resolver keeps every stored advertisement's resolution current: when a Community
// changes (or, under --unresolved-aliases=warn, an alias appears), it rewrites the
// bgpcomm.io/resolved-communities annotation of each affected BGPAdvertisement. Only
// the leader (a coordination.k8s.io Lease) writes. An alias change looks only at the
// advertisements that reference the alias (the view's index); a full pass runs on
// leadership and every resync.
//
// Leadership is asked before each PATCH, not once per pass. A PATCH that fails is not
// retried every second: per advertisement, a conflict or a transient failure (409, 429,
// 5xx, transport) is retried after a doubling delay (1 s up to 5 min); any other 4xx
// (the webhook denied it, e.g. an advertisement made invalid by a pool that shrank) is
// held until its inputs change: its resourceVersion or the annotation it needs, or a
// Trigger() (leadership, a pool or peer change) or Trigger(names) naming it.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "community/admission.h"
#include "kube/client.h"
#include "kube/clock.h"
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
  int deferred = 0;      // not tried: a failed PATCH is backing off or held
  int not_leading = 0;   // not written: this process no longer leads
};

class Resolver {
 public:
  // `view` is the incremental view of `namespace_name` fed by `cache`; both outlive this.
  Resolver(kube::Client& client, const MetallbCache& cache, const IncrementalNamespace& view,
           std::string namespace_name, community::AdmissionOptions options,
           WebhookMetrics& metrics, const kube::Clock* clock = nullptr);

  // Asks for a full pass soon (coalesced with other requests); every held advertisement
  // is tried again (its inputs may have changed).
  void Trigger();
  // Asks for the advertisements `names` to be looked at soon (coalesced into one batch);
  // those held are tried again.
  void Trigger(std::vector<std::string> names);
  // Asked before each PATCH; false: the PATCH is not sent (counted not_leading). Run()
  // sets it to its `is_leader`.
  void GuardWrites(std::function<bool()> may_write);
  // Each PATCH is given at most this long (kube::CallDeadline): the time left of the
  // leader's term, so that a write started at its end does not land long after it.
  void BoundWrites(std::function<kube::Duration()> time_left);
  // One pass over the namespace's advertisements as the cache holds them: each whose
  // stored resolution differs from a fresh one is patched (guarded by its
  // resourceVersion, so a concurrent edit wins and the next pass looks again).
  ResolverCounts Pass();
  // The same for the advertisements `names` only (absent ones are skipped). `retry`, when
  // given, receives the names whose PATCH failed.
  ResolverCounts PassOver(const std::vector<std::string>& names,
                          std::vector<std::string>* retry = nullptr);
  // Runs passes when triggered, when a failed PATCH is due again and every `resync`,
  // while `is_leader()`, until `stop`.
  void Run(std::stop_token stop, const std::function<bool()>& is_leader,
           std::chrono::seconds resync = std::chrono::seconds(60));

 private:
  kube::Client& client_;
  // Looks at one stored advertisement against `aliases`.
  void ResolveOne(const kube::ObjectPtr& object, const community::AliasTable& aliases,
                  ResolverCounts& counts, std::vector<std::string>* retry);

  // A PATCH of one advertisement that failed.
  struct Failure {
    int count = 0;
    kube::TimePoint retry_at{};
    std::string held_for;  // non-empty: held while the inputs are these
  };
  // Whether the advertisement may be patched now for `inputs` (resourceVersion and patch).
  bool MayTry(const std::string& name, const std::string& inputs);
  void Failed(const std::string& name, const std::string& inputs, const kube::Error& error);
  void Forget(const std::string& name);
  // Names whose backoff has passed; the earliest retry still to come.
  std::vector<std::string> DueLocked(std::optional<kube::TimePoint>& next) const;

  kube::RealClock real_clock_;
  const kube::Clock& clock_;
  std::function<bool()> may_write_;
  std::function<kube::Duration()> time_left_;
  std::map<std::string, Failure> failures_;  // guarded by mutex_
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
