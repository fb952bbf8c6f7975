#include "webhook/allocator_controller.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "objectjson/fields.h"
#include "objectjson/metallb.h"
#include "objectjson/metallb_resources.h"

namespace bgpcomm::webhook {

namespace {

using objectjson::Fields;

const kube::Resource kNamespaces{"", "v1", "namespaces", "Namespace", /*namespaced=*/false};

std::string CompactJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

kube::InformerOptions Decoding(kube::InformerOptions options, kube::Decoder decode) {
  options.reflector.decode = std::move(decode);
  return options;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), slash == std::string::npos ? "" : key.substr(slash + 1)};
}

}  // namespace

// A stored Service was validated by the apiserver; a field of the wrong type reads as
// missing. Annotations and addresses stay raw: the core parses them and names what is
// malformed.
StoredService DecodeStoredService(const rapidjson::Value& object) {
  community::Diagnostics ignored;
  Fields top(&object, "", ignored);
  Fields meta = top.Object("metadata");
  Fields spec = top.Object("spec");
  StoredService out;
  allocator::Service& s = out.service;
  s.namespace_name = meta.String("namespace");
  s.name = meta.String("name");
  s.labels = meta.StringMap("labels");
  s.annotations = meta.StringMap("annotations");
  s.type = spec.String("type");
  if (s.type.empty()) s.type = "ClusterIP";
  if (spec.Get("loadBalancerClass") != nullptr) {
    s.load_balancer_class = spec.String("loadBalancerClass");
  }
  s.load_balancer_ip = spec.String("loadBalancerIP");
  for (const auto& family : spec.Strings("ipFamilies")) {
    if (auto parsed = allocator::ParseIpFamily(family)) s.ip_families.push_back(*parsed);
  }
  s.ip_family_policy = allocator::ParseIpFamilyPolicy(spec.String("ipFamilyPolicy"));
  s.external_traffic_policy = allocator::ParseTrafficPolicy(spec.String("externalTrafficPolicy"))
                                  .value_or(allocator::TrafficPolicy::kCluster);
  s.selector = spec.StringMap("selector");
  spec.Objects("ports", [&](const Fields& port) {
    allocator::ServicePort p;
    p.port = port.Integer("port").value_or(0);
    p.protocol = port.String("protocol");
    if (p.protocol.empty()) p.protocol = "TCP";
    s.ports.push_back(std::move(p));
  });
  top.Object("status").Object("loadBalancer").Objects("ingress", [&](const Fields& ingress) {
    std::string ip = ingress.String("ip");
    if (!ip.empty()) s.held.push_back(std::move(ip));
  });
  out.json = CompactJson(object);
  return out;
}

std::optional<community::ServiceObject> ServiceObjectOf(const kube::Object& object) {
  auto stored = object.As<StoredService>();
  if (!stored) return std::nullopt;
  community::ServiceObject out;
  out.meta.namespace_name = stored->service.namespace_name;
  out.meta.name = stored->service.name;
  out.type = stored->service.type;
  for (const std::string& ip : stored->service.held) out.status.load_balancer.ingress.push_back({.ip = ip});
  return out;
}

StoredPool DecodeStoredPool(const rapidjson::Value& object) {
  community::Diagnostics ignored;
  StoredPool out;
  out.pool = objectjson::DecodePool(object, ignored);
  Fields top(&object, "", ignored);
  if (top.Get("status") != nullptr) {
    Fields status = top.Object("status");
    out.status =
        allocator::PoolCounts{.assigned_ipv4 = status.Integer("assignedIPv4").value_or(0),
                              .assigned_ipv6 = status.Integer("assignedIPv6").value_or(0),
                              .available_ipv4 = status.Integer("availableIPv4").value_or(0),
                              .available_ipv6 = status.Integer("availableIPv6").value_or(0)};
  }
  out.json = CompactJson(object);
  return out;
}

namespace {
using NamespaceLabels = std::map<std::string, std::string>;
NamespaceLabels DecodeNamespaceLabels(const rapidjson::Value& object) {
  community::Diagnostics ignored;
  return Fields(&object, "", ignored).Object("metadata").StringMap("labels");
}
}  // namespace

AllocatorController::AllocatorController(kube::Client& client, kube::EventRecorder& events,
                                         prometheus::Registry& registry,
                                         AllocatorControllerOptions options)
    : client_(client),
      events_(events),
      options_(std::move(options)),
      in_use_(prometheus::BuildGauge()
                  .Name("bgpcomm_allocator_addresses_in_use")
                  .Help("Addresses of an IPAddressPool that Services hold (shared ones once)")
                  .Register(registry)),
      total_(prometheus::BuildGauge()
                 .Name("bgpcomm_allocator_addresses_total")
                 .Help("Addresses an IPAddressPool holds (in use and available)")
                 .Register(registry)),
      status_(client, options_.pool_namespace) {
  services_ = std::make_unique<kube::Informer>(
      client_, kube::resources::kServices, "",
      Decoding(options_.informer, kube::DecodeAs(DecodeStoredService)));
  pools_ = std::make_unique<kube::Informer>(
      client_, objectjson::kIPAddressPools, options_.pool_namespace,
      Decoding(options_.informer, kube::DecodeAs(DecodeStoredPool)));
  namespaces_ = std::make_unique<kube::Informer>(
      client_, kNamespaces, "", Decoding(options_.informer, kube::DecodeAs(DecodeNamespaceLabels)));

  services_->AddHandlers({
      .on_add = [this](const kube::ObjectPtr& object) { MarkService(object->Key()); },
      .on_update = [this](const kube::ObjectPtr&,
                          const kube::ObjectPtr& object) { MarkService(object->Key()); },
      .on_delete = [this](const kube::ObjectPtr& object) { MarkService(object->Key()); },
  });
  // A pool's own status write comes back as an update: only its spec matters.
  pools_->AddHandlers({
      .on_add = [this](const kube::ObjectPtr&) { MarkConfig(); },
      .on_update =
          [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
            auto old_pool = before->As<StoredPool>();
            auto new_pool = after->As<StoredPool>();
            if (old_pool && new_pool && old_pool->pool == new_pool->pool) return;
            MarkConfig();
          },
      .on_delete = [this](const kube::ObjectPtr&) { MarkConfig(); },
  });
  auto namespace_changed = [this](const kube::ObjectPtr& object) {
    {
      std::lock_guard lock(mutex_);
      dirty_namespaces_.insert(object->name);
    }
    wake_.notify_all();
  };
  namespaces_->AddHandlers({
      .on_add = namespace_changed,
      .on_update =
          [namespace_changed](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
            auto old_labels = before->As<NamespaceLabels>();
            auto new_labels = after->As<NamespaceLabels>();
            if (old_labels && new_labels && *old_labels == *new_labels) return;
            namespace_changed(after);
          },
      .on_delete = namespace_changed,
  });
}

AllocatorController::~AllocatorController() { Stop(); }

void AllocatorController::Start() {
  status_.Start();
  services_->Start();
  pools_->Start();
  namespaces_->Start();
  if (!events_thread_.joinable()) {
    events_thread_ = std::jthread([this](std::stop_token stop) { EventLoop(stop); });
  }
}

void AllocatorController::Stop() {
  status_.Stop();
  services_->Stop();
  pools_->Stop();
  namespaces_->Stop();
  if (events_thread_.joinable()) {
    events_thread_.request_stop();
    events_wake_.notify_all();
    events_thread_.join();
  }
}

bool AllocatorController::HasSynced() const {
  return services_->HasSynced() && pools_->HasSynced() && namespaces_->HasSynced();
}

void AllocatorController::MarkService(std::string key) {
  {
    std::lock_guard lock(mutex_);
    dirty_services_.insert(std::move(key));
  }
  wake_.notify_all();
}

void AllocatorController::MarkConfig() {
  {
    std::lock_guard lock(mutex_);
    pools_changed_ = true;
  }
  wake_.notify_all();
}

allocator::Service AllocatorController::Feedable(const StoredService& stored) const {
  allocator::Service service = stored.service;
  if (auto ns = namespaces_->Get("", service.namespace_name)) {
    if (auto labels = ns->As<NamespaceLabels>()) service.namespace_labels = *labels;
  }
  return service;
}

void AllocatorController::Handle(const allocator::Changes& changes, std::set<std::string>& services,
                                 std::set<std::string>& pools) {
  services.insert(changes.services.begin(), changes.services.end());
  pools.insert(changes.pools.begin(), changes.pools.end());
}

AllocatorPassCounts AllocatorController::Pass(bool full) {
  std::set<std::string> dirty;
  std::set<std::string> dirty_namespaces;
  bool pools_changed = false;
  {
    std::lock_guard lock(mutex_);
    dirty.swap(dirty_services_);
    dirty_namespaces.swap(dirty_namespaces_);
    pools_changed = pools_changed_;
    pools_changed_ = false;
  }
  std::set<std::string> changed;        // Services whose decision changed: Events
  std::set<std::string> changed_pools;  // pools whose counts changed
  std::vector<community::AddressPool> pools;
  if (full || pools_changed || !core_) {
    for (const auto& object : pools_->List()) {
      if (auto stored = object->As<StoredPool>()) pools.push_back(stored->pool);
    }
  }
  std::set<std::string> examine = dirty;  // Services whose status may need a write

  if (full || !core_) {
    // A fresh core fed with everything cached: the core judges Services that hold
    // addresses first, so a leader change or a resync never moves an address.
    core_ = std::make_unique<allocator::Allocator>(
        allocator::Options{.load_balancer_class = options_.lb_class});
    auto set = core_->SetPools(pools);
    if (!set) {
      spdlog::warn("event=allocator_pools_refused problem=\"{}\"",
                   set.error().empty() ? "" : set.error().front().ToString());
    }
    status_.PoolsJudged(set ? std::vector<community::Diagnostic>{} : set.error());
    std::vector<allocator::Service> services;
    for (const auto& object : services_->List()) {
      if (auto stored = object->As<StoredService>()) {
        services.push_back(Feedable(*stored));
        examine.insert(object->Key());
      }
    }
    Handle(core_->UpsertAll(services), changed, changed_pools);
    for (const auto& [name, counts] : core_->AllCounts()) changed_pools.insert(name);
  } else {
    if (pools_changed) {
      auto set = core_->SetPools(pools);
      status_.PoolsJudged(set ? std::vector<community::Diagnostic>{} : set.error());
      if (set) {
        Handle(*set, changed, changed_pools);
      } else {
        // The webhook denies such pools; one stored without it (or before it) is refused
        // whole, as MetalLB refuses the configuration, and the previous pools stay.
        spdlog::warn("event=allocator_pools_refused problem=\"{}\"",
                     set.error().empty() ? "" : set.error().front().ToString());
      }
    }
    // A namespace's labels changed: its Services are fed again (the core ignores a
    // Service whose input did not change).
    for (const auto& ns : dirty_namespaces) {
      for (const auto& object : services_->ListNamespace(ns)) dirty.insert(object->Key());
    }
    for (const auto& key : dirty) {
      auto [ns, name] = SplitKey(key);
      auto object = services_->Get(ns, name);
      auto stored = object ? object->As<StoredService>() : nullptr;
      if (stored) {
        Handle(core_->Upsert(Feedable(*stored)), changed, changed_pools);
      } else {
        Handle(core_->Remove(key), changed, changed_pools);
      }
    }
  }
  examine.insert(changed.begin(), changed.end());

  AllocatorPassCounts counts;
  std::vector<Work> work;
  std::vector<PendingEvent> events;  // queued once the writes are known (below)
  for (const auto& key : examine) {
    auto [ns, name] = SplitKey(key);
    auto object = services_->Get(ns, name);
    auto stored = object ? object->As<StoredService>() : nullptr;
    const allocator::Result* result = core_->Find(key);
    if (!stored || !result) continue;
    if (result->reason == allocator::Reason::kNotOurs) continue;  // another allocator's
    const std::vector<std::string>& held = stored->service.held;
    if (changed.contains(key)) {
      kube::ObjectReference reference = kube::ReferenceTo(kube::resources::kServices, *object);
      if (result->failed()) {
        ++counts.failed;
        spdlog::info("event=allocation_failed namespace={} name={} reason={} message=\"{}\"", ns,
                     name, allocator::Name(result->reason), result->message);
        events.push_back({reference, kube::EventType::kWarning, "AllocationFailed",
                          std::string(allocator::Name(result->reason)) + ": " + result->message});
      } else if (result->ok() && result->addresses != held) {
        events.push_back({reference, kube::EventType::kNormal, "IPAllocated",
                          "Assigned IP [" + Join(result->addresses) + "] from pool " + result->pool});
      }
      for (const auto& note : result->notes) {
        events.push_back({reference, kube::EventType::kNormal, "AllocationChanged", note});
      }
    }
    if (result->addresses != held) work.push_back({key, stored, result->addresses});
  }

  // Statuses about to be written count as writing: this pass's Events already give way.
  if (!work.empty()) MarkWriting();
  for (PendingEvent& event : events) {
    Emit(event.object, event.type, std::move(event.reason), std::move(event.message));
  }

  AllocatorPassCounts written = WriteAll(std::move(work));
  counts.written = written.written;
  counts.conflicts = written.conflicts;
  counts.errors = written.errors;
  counts.not_leading = written.not_leading;
  WritePools(changed_pools);
  return counts;
}

AllocatorPassCounts AllocatorController::WriteAll(std::vector<Work> work) {
  AllocatorPassCounts counts;
  if (work.empty()) return counts;
  std::mutex counts_mutex;
  std::atomic<std::size_t> next{0};
  auto writer = [&] {
    for (std::size_t i = next++; i < work.size(); i = next++)
      WriteOne(work[i], counts, counts_mutex);
  };
  int threads = std::clamp<int>(options_.writers, 1,
                                static_cast<int>(std::min<std::size_t>(work.size(), 32)));
  {
    std::vector<std::jthread> helpers;
    for (int i = 1; i < threads; ++i) helpers.emplace_back(writer);
    writer();
  }
  return counts;
}

void AllocatorController::WriteOne(const Work& work, AllocatorPassCounts& counts,
                                   std::mutex& counts_mutex) {
  auto count = [&](int AllocatorPassCounts::*field) {
    std::lock_guard lock(counts_mutex);
    ++(counts.*field);
  };
  nlohmann::json body = nlohmann::json::parse(work.from->json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return;
  // The version the decision was made from: its resourceVersion guards the write.
  nlohmann::json ingress = nlohmann::json::array();
  for (const auto& address : work.addresses) ingress.push_back({{"ip", address}});
  body["status"]["loadBalancer"] =
      work.addresses.empty() ? nlohmann::json::object() : nlohmann::json{{"ingress", ingress}};
  const std::string& ns = work.from->service.namespace_name;
  const std::string& name = work.from->service.name;
  if (!MayWrite()) {
    count(&AllocatorPassCounts::not_leading);
    MarkService(work.key);
    return;
  }
  std::optional<kube::CallDeadline> bound;
  if (time_left_) bound.emplace(WriteTime());
  auto written =
      client_.Replace(kube::resources::kServices, ns, name, body, {.subresource = "status"});
  bound.reset();
  if (written) {
    MarkWriting();
    count(&AllocatorPassCounts::written);
    spdlog::info("event=service_status_written namespace={} name={} ingress=\"{}\"", ns, name,
                 Join(work.addresses));
    return;
  }
  if (written.error().IsNotFound()) return;  // deleted meanwhile: the watch says so
  if (written.error().IsConflict()) {
    // Changed since it was read: the watch delivers the newer version, which is decided
    // again; it is never overwritten.
    count(&AllocatorPassCounts::conflicts);
  } else {
    count(&AllocatorPassCounts::errors);
    spdlog::warn("event=service_status_write_failed namespace={} name={} error=\"{}\"", ns, name,
                 written.error().ToString());
  }
  MarkService(work.key);
}

void AllocatorController::WritePools(const std::set<std::string>& changed) {
  std::set<std::string> pools = changed;
  pools.insert(unwritten_pools_.begin(), unwritten_pools_.end());
  unwritten_pools_.clear();
  for (const auto& name : pools) {
    auto counts = core_->Counts(name);
    auto object = pools_->Get(options_.pool_namespace, name);
    auto stored = object ? object->As<StoredPool>() : nullptr;
    if (!counts || !stored) {
      pool_written_.erase(name);
      in_use_.Remove(&in_use_.Add({{"pool", name}}));
      total_.Remove(&total_.Add({{"pool", name}}));
      continue;
    }
    double in_use =
        static_cast<double>(counts->assigned_ipv4) + static_cast<double>(counts->assigned_ipv6);
    in_use_.Add({{"pool", name}}).Set(in_use);
    total_.Add({{"pool", name}})
        .Set(in_use + static_cast<double>(counts->available_ipv4) +
             static_cast<double>(counts->available_ipv6));
    if (stored->status == *counts) continue;
    const auto now = std::chrono::steady_clock::now();
    if (auto last = pool_written_.find(name);
        last != pool_written_.end() && now - last->second < options_.pool_status_interval) {
      unwritten_pools_.insert(name);  // written by a pass after the interval (one a second)
      continue;
    }
    if (!MayWrite()) {
      unwritten_pools_.insert(name);
      continue;
    }
    pool_written_[name] = now;
    nlohmann::json body = nlohmann::json::parse(stored->json, nullptr, false);
    if (body.is_discarded()) continue;
    body["status"] = {{"assignedIPv4", counts->assigned_ipv4},
                      {"assignedIPv6", counts->assigned_ipv6},
                      {"availableIPv4", counts->available_ipv4},
                      {"availableIPv6", counts->available_ipv6}};
    std::optional<kube::CallDeadline> bound;
    if (time_left_) bound.emplace(WriteTime());
    auto written = client_.Replace(objectjson::kIPAddressPools, options_.pool_namespace, name, body,
                                   {.subresource = "status"});
    bound.reset();
    if (written || written.error().IsNotFound()) continue;
    if (!written.error().IsConflict()) {
      spdlog::warn("event=pool_status_write_failed pool={} error=\"{}\"", name,
                   written.error().ToString());
    }
    unwritten_pools_.insert(name);
  }
}

void AllocatorController::Emit(const kube::ObjectReference& object, kube::EventType type,
                               std::string reason, std::string message) {
  {
    std::lock_guard lock(events_mutex_);
    if (pending_events_.size() >= 20000) return;
    pending_events_.push_back({object, type, std::move(reason), std::move(message)});
  }
  events_wake_.notify_all();
}

void AllocatorController::EventLoop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    PendingEvent event;
    {
      std::unique_lock lock(events_mutex_);
      events_wake_.wait(lock, stop, [this] { return !pending_events_.empty(); });
      if (pending_events_.empty()) continue;
      event = std::move(pending_events_.front());
      pending_events_.pop_front();
    }
    auto recorded = events_.Record(event.object, event.type, event.reason, event.message);
    if (!recorded) {
      spdlog::warn("event=event_record_failed namespace={} name={} reason={} error=\"{}\"",
                   event.object.namespace_name, event.object.name, event.reason,
                   recorded.error().ToString());
    }
    if (WritingStatuses()) {
      // Addresses first: the API server's time goes to the status writes.
      std::unique_lock lock(events_mutex_);
      events_wake_.wait_for(lock, stop, options_.busy_event_interval, [] { return false; });
    }
  }
}

void AllocatorController::MarkWriting() {
  last_status_write_ = std::chrono::steady_clock::now().time_since_epoch().count();
}

bool AllocatorController::WritingStatuses() const {
  auto last = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_status_write_.load()));
  return std::chrono::steady_clock::now() - last < options_.busy_window;
}

void AllocatorController::Run(std::stop_token stop, const std::function<bool()>& is_leader) {
  GuardWrites(is_leader);
  auto last_full = std::chrono::steady_clock::now();
  bool was_leader = false;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, stop, std::chrono::seconds(1), [this] {
        return pools_changed_ || !dirty_services_.empty() || !dirty_namespaces_.empty();
      });
    }
    if (stop.stop_requested()) break;
    if (!is_leader() || !HasSynced()) {
      was_leader = false;
      if (!HasSynced()) continue;
      // Not leading: what changed is forgotten, not waited on (leadership starts with a
      // full pass over everything cached), so the wait above does not return at once.
      std::lock_guard lock(mutex_);
      dirty_services_.clear();
      dirty_namespaces_.clear();
      pools_changed_ = false;
      continue;
    }
    // Leadership (re)started: a fresh core from the cache. A resync feeds every Service
    // again (the core ignores unchanged input) and rewrites any status that drifted,
    // without re-recording Events for decisions that did not change.
    bool full = !was_leader;
    was_leader = true;
    if (full || std::chrono::steady_clock::now() - last_full >= options_.resync) {
      last_full = std::chrono::steady_clock::now();
      if (!full) {
        std::lock_guard lock(mutex_);
        for (const auto& object : services_->List()) dirty_services_.insert(object->Key());
        pools_changed_ = true;
      }
    }
    AllocatorPassCounts counts = Pass(full);
    if (full || counts.written + counts.conflicts + counts.errors > 0) {
      spdlog::info("event=allocator_pass full={} written={} failed={} conflicts={} errors={}", full,
                   counts.written, counts.failed, counts.conflicts, counts.errors);
    }
    if (counts.errors + counts.conflicts > 0) {
      // Let the watch deliver the newer versions (conflicts), or the API recover.
      std::unique_lock lock(mutex_);
      wake_.wait_for(
          lock, stop,
          counts.errors > 0 ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(200),
          [] { return false; });
    }
  }
}

}  // namespace bgpcomm::webhook
