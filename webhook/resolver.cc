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
                   community::AdmissionOptions options, WebhookMetrics& metrics)
    : client_(client),
      cache_(cache),
      view_(view),
      namespace_(std::move(namespace_name)),
      options_(std::move(options)),
      metrics_(metrics) {}

void Resolver::Trigger() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
  }
  wake_.notify_all();
}

void Resolver::Trigger(std::vector<std::string> names) {
  {
    std::lock_guard lock(mutex_);
    pending_.insert(std::make_move_iterator(names.begin()), std::make_move_iterator(names.end()));
  }
  wake_.notify_all();
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
    }
  }
  return counts;
}

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
  auto patched =
      client_.Patch(objectjson::kBGPAdvertisements, namespace_, object->name,
                    kube::PatchType::kJson, GuardedBy(object->resource_version, *patch));
  if (!patched) {
    ++counts.failed;
    if (retry) retry->push_back(object->name);
    metrics_.RecordResolverAction("failed");
    metrics_.RecordApiError("patch");
    spdlog::warn("event=resolve_patch_failed namespace={} name={} error=\"{}\"", namespace_,
                 object->name, patched.error().ToString());
    return;
  }
  ++counts.rewritten;
  metrics_.RecordResolverAction("rewritten");
  spdlog::info("event=resolved namespace={} name={} annotation={}", namespace_, object->name,
               fresh.annotation);
}

void Resolver::Run(std::stop_token stop, const std::function<bool()>& is_leader,
                   std::chrono::seconds resync) {
  while (!stop.stop_requested()) {
    bool full = false;
    std::vector<std::string> batch;
    {
      std::unique_lock lock(mutex_);
      bool woken = wake_.wait_for(lock, stop, resync,
                                  [this] { return triggered_ || !pending_.empty(); });
      full = triggered_ || !woken;  // the resync period passed: a full pass
      triggered_ = false;
      batch.assign(pending_.begin(), pending_.end());
      pending_.clear();
    }
    if (stop.stop_requested()) break;
    if (!is_leader() || !cache_.HasSynced()) continue;
    std::vector<std::string> retry;
    ResolverCounts counts = full ? Pass() : PassOver(batch, &retry);
    if (counts.failed > 0) {
      // A conflict or an API error: look again after a second.
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
      if (full) {
        triggered_ = true;
      } else {
        pending_.insert(retry.begin(), retry.end());
      }
    }
  }
}

}  // namespace bgpcomm::webhook
