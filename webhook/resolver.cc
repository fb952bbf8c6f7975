#include "webhook/resolver.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "community/annotation.h"
#include "webhook/cluster_view.h"
#include "webhook/json_patch.h"
#include "objectjson/metallb_resources.h"

namespace bgpcomm::webhook {

namespace {

// `patch` (a JSON Patch array) preceded by a test of the object's resourceVersion.
std::string GuardedBy(const std::string& resource_version, const std::string& patch) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("op");
  w.String("test");
  w.Key("path");
  w.String("/metadata/resourceVersion");
  w.Key("value");
  w.String(resource_version.c_str(), static_cast<rapidjson::SizeType>(resource_version.size()));
  w.EndObject();
  return "[" + std::string(buffer.GetString(), buffer.GetSize()) + "," + patch.substr(1);
}

}  // namespace

Resolver::Resolver(kube::Client& client, const MetallbCache& cache,
                   const IncrementalNamespace& view, std::string namespace_name,
                   community::AdmissionOptions options, WebhookMetrics& metrics,
                   const kube::Clock* clock)
    : client_(client),
      clock_(clock ? *clock : real_clock_),
      cache_(cache),
      view_(view),
      namespace_(std::move(namespace_name)),
      options_(std::move(options)),
      metrics_(metrics) {}

void Resolver::Trigger() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
    std::erase_if(failures_, [](const auto& entry) { return !entry.second.held_for.empty(); });
  }
  wake_.notify_all();
}

void Resolver::Trigger(std::vector<std::string> names) {
  {
    std::lock_guard lock(mutex_);
    for (const auto& name : names) {
      auto failure = failures_.find(name);
      if (failure != failures_.end() && !failure->second.held_for.empty()) failures_.erase(failure);
    }
    pending_.insert(std::make_move_iterator(names.begin()), std::make_move_iterator(names.end()));
  }
  wake_.notify_all();
}

void Resolver::GuardWrites(std::function<bool()> may_write) { may_write_ = std::move(may_write); }

void Resolver::BoundWrites(std::function<kube::Duration()> time_left) {
  time_left_ = std::move(time_left);
}

bool Resolver::MayTry(const std::string& name, const std::string& inputs) {
  std::lock_guard lock(mutex_);
  auto failure = failures_.find(name);
  if (failure == failures_.end()) return true;
  if (!failure->second.held_for.empty()) {
    if (failure->second.held_for == inputs) return false;
    failures_.erase(failure);  // the inputs changed: try at once
    return true;
  }
  return clock_.Now() >= failure->second.retry_at;
}

void Resolver::Failed(const std::string& name, const std::string& inputs,
                      const kube::Error& error) {
  const int status = error.http_status;
  std::lock_guard lock(mutex_);
  Failure& failure = failures_[name];
  ++failure.count;
  if (status >= 400 && status < 500 && status != 408 && status != 409 && status != 429) {
    // Refused for what it is (e.g. denied by the webhook): the same PATCH would be refused
    // again, until something it depends on changes.
    failure.held_for = inputs;
    spdlog::warn("event=resolve_patch_held namespace={} name={} status={} until=inputs_change",
                 namespace_, name, status);
    return;
  }
  failure.held_for.clear();
  const int doublings = std::min(failure.count - 1, 9);  // 1 s * 2^9 > 5 min
  const kube::Duration delay =
      std::min<kube::Duration>(std::chrono::seconds(1) * (1 << doublings), std::chrono::minutes(5));
  failure.retry_at = clock_.Now() + delay;
}

void Resolver::Forget(const std::string& name) {
  std::lock_guard lock(mutex_);
  failures_.erase(name);
}

std::vector<std::string> Resolver::DueLocked(std::optional<kube::TimePoint>& next) const {
  std::vector<std::string> due;
  const kube::TimePoint now = clock_.Now();
  for (const auto& [name, failure] : failures_) {
    if (!failure.held_for.empty()) continue;
    if (failure.retry_at <= now) {
      due.push_back(name);
    } else if (!next || failure.retry_at < *next) {
      next = failure.retry_at;
    }
  }
  return due;
}

ResolverCounts Resolver::Pass() {
  ResolverCounts counts;
  auto snapshot = view_.Snapshot();
  for (const auto& object : cache_.advertisements().ListNamespace(namespace_)) {
    ResolveOne(object, snapshot->aliases, counts, nullptr);
  }
  return counts;
}

ResolverCounts Resolver::PassOver(const std::vector<std::string>& names,
                                  std::vector<std::string>* retry) {
  ResolverCounts counts;
  auto snapshot = view_.Snapshot();
  for (const auto& name : names) {
    if (auto object = cache_.advertisements().Get(namespace_, name)) {
      ResolveOne(object, snapshot->aliases, counts, retry);
    } else {
      Forget(name);  // deleted
    }
  }
  return counts;
}

namespace {

// The resolution annotation of an object the API server returned, empty when it has none.
std::string StoredAnnotation(const nlohmann::json& object) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return {};
  auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return {};
  auto value = annotations->find(std::string(community::kResolvedAnnotation));
  return value != annotations->end() && value->is_string() ? value->get<std::string>()
                                                           : std::string();
}

}  // namespace

void Resolver::ResolveOne(const kube::ObjectPtr& object, const community::AliasTable& aliases,
                          ResolverCounts& counts, std::vector<std::string>* retry) {
  auto decoded = object->As<community::Advertisement>();
  if (!decoded) return;
  const community::Advertisement& advertisement = *decoded;
  community::Diagnostics diagnostics;
  // Only advertisements bgpcomm admitted are kept current. One stored without the
  // webhook (before it was registered, or under failurePolicy Ignore) was never judged,
  // so it keeps no annotation and the speaker refuses it.
  if (!advertisement.meta.annotations.contains(std::string(community::kResolvedAnnotation))) {
    ++counts.unadmitted;
    return;
  }
  community::StoredCommunities fresh = community::ComputeStored(
      advertisement, nullptr, aliases, options_.unresolved, options_.expand, diagnostics);
  auto patch = ResolutionPatch(advertisement.meta, advertisement.communities, fresh,
                               options_.expand == community::ExpandMode::kInPlace);
  if (!patch) {
    ++counts.unchanged;
    Forget(object->name);
    return;
  }
  if (diagnostics.HasErrors()) {
    // An entry that no longer resolves (its alias was removed despite the webhook,
    // e.g. while it was not registered): leave the stored resolution, so the speaker
    // sees it as stale and announces nothing for it.
    ++counts.unresolvable;
    metrics_.RecordResolverAction("unresolvable");
    spdlog::warn("event=resolve_failed namespace={} name={} problem=\"{}\"", namespace_,
                 object->name, diagnostics.Errors().front().ToString());
    return;
  }
  const std::string inputs = object->resource_version + "\n" + *patch;
  if (!MayTry(object->name, inputs)) {
    ++counts.deferred;
    return;
  }
  // Leadership may have ended during the pass: asked again right before the write.
  if (may_write_ && !may_write_()) {
    ++counts.not_leading;
    return;
  }
  std::optional<kube::CallDeadline> bound;
  if (time_left_) bound.emplace(time_left_());
  auto patched =
      client_.Patch(objectjson::kBGPAdvertisements, namespace_, object->name,
                    kube::PatchType::kJson, GuardedBy(object->resource_version, *patch));
  bound.reset();
  // Not stored: retried with the failure backoff.
  auto failed = [&](const kube::Error& error) {
    Failed(object->name, inputs, error);
    ++counts.failed;
    if (retry) retry->push_back(object->name);
    metrics_.RecordResolverAction("failed");
  };
  if (!patched) {
    failed(patched.error());
    metrics_.RecordApiError("patch");
    spdlog::warn("event=resolve_patch_failed namespace={} name={} error=\"{}\"", namespace_,
                 object->name, patched.error().ToString());
    return;
  }
  const std::string wanted = fresh.Annotation();
  if (auto stored = StoredAnnotation(*patched); stored != wanted) {
    // Admitted, but a mutating call rewrote the annotation (a webhook replica whose view
    // could not be confirmed): the update may have been a no-op that brings no event, so
    // the write is retried with the failure backoff until the stored value is right.
    failed(kube::LocalError("the mutating webhook stored " + stored + " instead of " + wanted));
    spdlog::warn("event=resolve_overwritten namespace={} name={} stored={} wanted={}", namespace_,
                 object->name, stored, wanted);
    return;
  }
  Forget(object->name);
  ++counts.rewritten;
  metrics_.RecordResolverAction("rewritten");
  spdlog::info("event=resolved namespace={} name={} annotation={}", namespace_, object->name,
               wanted);
}

void Resolver::Run(std::stop_token stop, const std::function<bool()>& is_leader,
                   std::chrono::seconds resync) {
  GuardWrites(is_leader);
  auto last_full = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    bool full = false;
    std::vector<std::string> batch;
    {
      std::unique_lock lock(mutex_);
      auto wait = std::chrono::duration_cast<kube::Duration>(
          resync - (std::chrono::steady_clock::now() - last_full));
      std::optional<kube::TimePoint> next;
      if (!DueLocked(next).empty()) {
        wait = std::chrono::milliseconds(100);  // leave a moment for triggers to coalesce
      } else if (next) {
        wait = std::min(wait, *next - clock_.Now());
      }
      wait = std::max<kube::Duration>(wait, std::chrono::milliseconds(100));
      wake_.wait_for(lock, stop, wait, [this] { return triggered_ || !pending_.empty(); });
      full = triggered_ || std::chrono::steady_clock::now() - last_full >= resync;
      triggered_ = false;
      batch.assign(pending_.begin(), pending_.end());
      pending_.clear();
      std::optional<kube::TimePoint> ignored;
      for (auto& name : DueLocked(ignored)) batch.push_back(std::move(name));
    }
    if (stop.stop_requested()) break;
    if (!is_leader()) {
      // Not leading: nothing is retried and no resync is due (leadership starts with a
      // full pass, Trigger()).
      last_full = std::chrono::steady_clock::now();
      std::lock_guard lock(mutex_);
      failures_.clear();
      continue;
    }
    if (!cache_.HasSynced()) {
      // Leading before the cache listed: the full pass waits for it.
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
      triggered_ = true;
      continue;
    }
    if (full) {
      last_full = std::chrono::steady_clock::now();
      Pass();
    } else if (!batch.empty()) {
      PassOver(batch);
    }
  }
}

}  // namespace bgpcomm::webhook
