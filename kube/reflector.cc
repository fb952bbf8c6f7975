#include "kube/reflector.h"

#include <spdlog/spdlog.h>

namespace bgpcomm::kube {

Reflector::Reflector(Client& client, Resource resource, std::string ns, ReflectorSink& sink,
                     Sleeper& sleeper, Random& random, ReflectorOptions options)
    : client_(client),
      resource_(std::move(resource)),
      namespace_(std::move(ns)),
      sink_(sink),
      sleeper_(sleeper),
      random_(random),
      options_(std::move(options)) {}

std::string Reflector::LastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

std::string Reflector::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void Reflector::SetResourceVersion(const std::string& rv) {
  std::lock_guard lock(mu_);
  resource_version_ = rv;
}

void Reflector::SetError(const Error& error) {
  {
    std::lock_guard lock(mu_);
    last_error_ = resource_.plural + ": " + error.ToString();
  }
  failing_ = true;
  // 410 Gone is the apiserver's compaction, answered by a relist: not a failure.
  if (error.http_status == 410) {
    spdlog::info("event=watch_expired resource={} action=relist", resource_.plural);
  } else {
    spdlog::warn("event=watch_failed resource={} error=\"{}\" action=retrying", resource_.plural,
                 error.ToString());
  }
}

void Reflector::Recovered() {
  if (!failing_) return;
  failing_ = false;
  spdlog::info("event=watch_resumed resource={}", resource_.plural);
}

void Reflector::Run(std::stop_token stop) {
  Backoff backoff(options_.backoff, random_);
  bool need_list = true;
  // After 410: the watch cache is recent enough to resync from (resourceVersion=0).
  bool from_cache = false;
  while (!stop.stop_requested()) {
    if (need_list) {
      std::vector<Object> objects;
      ListOptions list_options = options_.list;
      if (from_cache) list_options.resource_version = "0";
      from_cache = false;  // a failed relist is retried from etcd
      auto list = client_.List(resource_, namespace_, list_options,
                               [&](const rapidjson::Value& item) {
                                 objects.push_back(ToObject(item, options_.decode));
                               });
      if (stop.stop_requested()) return;
      if (!list) {
        SetError(list.error());
        if (!sleeper_.SleepFor(backoff.Next(), stop)) return;
        continue;
      }
      SetResourceVersion(*list);
      Recovered();
      sink_.Replace(std::move(objects), *list);
      ++list_count_;
      need_list = false;
    }

    bool gone = false;
    bool received = false;
    std::optional<Error> stream_error;
    WatchOptions watch{.resource_version = LastResourceVersion(),
                       .label_selector = options_.list.label_selector,
                       .field_selector = options_.list.field_selector,
                       .timeout = options_.watch_timeout};
    auto result = client_.Watch(
        resource_, namespace_, watch,
        [&](WatchEvent&& event) {
          // Progress is an event that moves the resourceVersion; an ERROR is not one.
          received = received || event.type != WatchEventType::kError;
          switch (event.type) {
            case WatchEventType::kError:
              if (event.error.http_status == 410) gone = true;
              stream_error = event.error;
              return false;
            case WatchEventType::kBookmark:
              SetResourceVersion(event.object.resource_version);
              return true;
            case WatchEventType::kAdded:
            case WatchEventType::kModified:
            case WatchEventType::kDeleted:
              if (!event.object.resource_version.empty())
                SetResourceVersion(event.object.resource_version);
              if (options_.decode && event.json != nullptr)
                event.object.decoded = options_.decode(*event.json);
              sink_.Apply(event.type, std::move(event.object));
              return true;
          }
          return true;
        },
        stop);
    if (stop.stop_requested()) return;
    if (!result) {
      stream_error = result.error();
      if (result.error().IsGone()) gone = true;
    }
    if (gone) {
      // The resourceVersion is compacted away: only a fresh LIST can resync (no backoff,
      // the apiserver is healthy). Every watcher got its 410 at once: spread the relists,
      // and read them from the watch cache.
      SetError(*stream_error);
      need_list = true;
      from_cache = true;
      auto jitter = std::chrono::duration_cast<Duration>(options_.relist_jitter * random_.Uniform());
      if (jitter > Duration::zero() && !sleeper_.SleepFor(jitter, stop)) return;
      continue;
    }
    if (received) {
      backoff.Reset();
      Recovered();
    }
    if (stream_error) SetError(*stream_error);
    // A failed stream, or one that ended without a single event (a healthy apiserver
    // sends bookmarks), waits before reconnecting so that a broken server is not hammered.
    if (stream_error || !received) {
      if (!sleeper_.SleepFor(backoff.Next(), stop)) return;
    }
  }
}

}  // namespace bgpcomm::kube
