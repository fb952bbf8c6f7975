#include "speaker/kube_source.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <future>
#include <set>

#include "community/value.h"
#include "kube/guarded.h"
#include "objectjson/metallb.h"
#include "objectjson/metallb_resources.h"
#include "speaker/object_json.h"

namespace bgpcomm::speaker {
namespace {

constexpr std::chrono::milliseconds kSyncPoll{100};

// An advertisement as decoded when its event arrived; `error` non-empty: refused (fail
// closed: a field that does not decode could be one that restricts the route).
struct DecodedAdvertisement {
  community::Advertisement advertisement;
  std::string error;
};

// Decodes each object once, when its event arrives; type errors are logged then (the
// fields in error read as missing) and the rest of the object is kept.
template <typename Decode>
kube::InformerOptions DecodingWith(kube::InformerOptions options, const char* kind,
                                   Decode decode) {
  options.reflector.decode = kube::DecodeAs([kind, decode](const rapidjson::Value& object) {
    community::Diagnostics diagnostics;
    auto decoded = decode(object, diagnostics);
    if (diagnostics.HasErrors()) {
      community::Diagnostics ignored;
      community::ObjectMeta meta = objectjson::DecodeMeta(object, ignored);
      spdlog::warn("event=object_malformed kind={} namespace={} name={} error={}", kind,
                   meta.namespace_name, meta.name,
                   community::Quote(diagnostics.Errors().front().ToString()));
    }
    return decoded;
  });
  return options;
}

// Every decoded object of `objects`.
template <typename T>
std::vector<T> Collect(const std::vector<kube::ObjectPtr>& objects) {
  std::vector<T> out;
  out.reserve(objects.size());
  for (const kube::ObjectPtr& object : objects) {
    if (auto decoded = object->As<T>()) out.push_back(*decoded);
  }
  return out;
}

}  // namespace

std::string RefusalEventReason(community::RefusalKind kind) {
  switch (kind) {
    case community::RefusalKind::kMissing:
      return "ResolutionMissing";
    case community::RefusalKind::kUnreadable:
      return "ResolutionUnreadable";
    case community::RefusalKind::kStale:
      return "ResolutionStale";
    case community::RefusalKind::kUnresolved:
      return "CommunitiesUnresolved";
    case community::RefusalKind::kInvalid:
      return "AdvertisementInvalid";
  }
  return "AdvertisementInvalid";
}

void ObjectBatch::ApplyTo(IncrementalRoutes& routes) const {
  routes.SetPeers(peers);
  routes.SetNode(node);
  for (const Changed& c : objects) {
    switch (c.kind) {
      case ChangedKind::kService:
        if (auto service = c.object ? c.object->As<Service>() : nullptr) {
          routes.SetService(std::move(service));
        } else {
          routes.RemoveService(c.namespace_name, c.name);
        }
        break;
      case ChangedKind::kEndpointSlice:
        if (auto slice = c.object ? c.object->As<EndpointSlice>() : nullptr) {
          routes.SetEndpointSlice(std::move(slice));
        } else {
          routes.RemoveEndpointSlice(c.namespace_name, c.name);
        }
        break;
      case ChangedKind::kPool:
        if (auto pool = c.object ? c.object->As<community::AddressPool>() : nullptr) {
          routes.SetPool(std::move(pool));
        } else {
          routes.RemovePool(c.namespace_name, c.name);
        }
        break;
      case ChangedKind::kAdvertisement:
        if (auto decoded = c.object ? c.object->As<DecodedAdvertisement>() : nullptr) {
          // Shares the stored object (aliasing pointer), no copy.
          std::shared_ptr<const community::Advertisement> advertisement(
              decoded, &decoded->advertisement);
          routes.SetAdvertisement(std::move(advertisement), decoded->error);
        } else {
          routes.RemoveAdvertisement(c.namespace_name, c.name);
        }
        break;
      case ChangedKind::kOther:
        break;
    }
  }
  routes.Commit();
}

KubeSource::KubeSource(kube::Client& client, kube::EventRecorder& events, Speaker& speaker,
                       asio::io_context& io, KubeSourceOptions options)
    : client_(client),
      events_(events),
      speaker_(speaker),
      io_(io),
      options_(std::move(options)),
      passwords_(PasswordKeeperOptions{.refresh = options_.secret_refresh,
                                       .absent_grace = options_.secret_grace}) {
  // Each event records which object changed; the worker reads its current version from
  // the store (so events coalesce, and an object changed then deleted is just deleted).
  auto add = [&](const kube::Resource& resource, const std::string& ns,
                 kube::InformerOptions informer_options, ChangedKind kind) {
    informers_.push_back(std::make_unique<kube::Informer>(client_, resource, ns, informer_options));
    kube::Informer* informer = informers_.back().get();
    informer->AddHandlers(
        {.on_add = [this, kind](const kube::ObjectPtr& o) { MarkChanged(kind, *o); },
         .on_update = [this, kind](const kube::ObjectPtr&,
                                   const kube::ObjectPtr& o) { MarkChanged(kind, *o); },
         .on_delete = [this, kind](const kube::ObjectPtr& o) { MarkChanged(kind, *o); }});
    return informer;
  };
  const kube::InformerOptions& base = options_.informer;
  peers_ = add(objectjson::kBGPPeers, options_.namespace_name,
               DecodingWith(base, "BGPPeer", objectjson::DecodePeer), ChangedKind::kOther);
  kube::InformerOptions advertisement_options = base;
  advertisement_options.reflector.decode =
      kube::DecodeAs([](const rapidjson::Value& object) {
        community::Diagnostics diagnostics;
        DecodedAdvertisement decoded{objectjson::DecodeAdvertisement(object, diagnostics), {}};
        if (diagnostics.HasErrors()) {
          decoded.error = "does not decode: " + diagnostics.Errors().front().ToString();
        }
        return decoded;
      });
  advertisements_ = add(objectjson::kBGPAdvertisements, options_.namespace_name,
                        advertisement_options, ChangedKind::kAdvertisement);
  pools_ = add(objectjson::kIPAddressPools, options_.namespace_name,
               DecodingWith(base, "IPAddressPool", objectjson::DecodePool), ChangedKind::kPool);
  // BFD profiles are few and read whole on each apply.
  bfd_profiles_ = add(objectjson::kBFDProfiles, options_.namespace_name,
                      DecodingWith(base, "BFDProfile", objectjson::DecodeBfdProfile),
                      ChangedKind::kOther);
  services_ = add(kube::resources::kServices, "", DecodingWith(base, "Service", DecodeService),
                  ChangedKind::kService);
  slices_ = add(kube::resources::kEndpointSlices, "",
                DecodingWith(base, "EndpointSlice", DecodeEndpointSlice),
                ChangedKind::kEndpointSlice);
  // Secrets: one informer per passwordSecret name, started when a BGPPeer first names
  // it (a list/watch by field selector metadata.name, which RBAC allows by
  // resourceNames); only data.password is kept in memory.
  secret_options_ = base;
  secret_options_.reflector.decode = kube::DecodeAs([](const rapidjson::Value& object) {
    community::Diagnostics diagnostics;
    Secret secret = DecodeSecret(object, diagnostics);
    std::erase_if(secret.data, [](const auto& entry) { return entry.first != "password"; });
    return secret;
  });
  kube::InformerOptions node_options = DecodingWith(base, "Node", DecodeNode);
  node_options.reflector.list.field_selector = "metadata.name=" + options_.node_name;
  nodes_ = add(kube::resources::kNodes, "", node_options, ChangedKind::kOther);
}

KubeSource::~KubeSource() { Stop(); }

void KubeSource::Start() {
  for (auto& informer : informers_) informer->Start();
  worker_ = std::jthread([this](std::stop_token stop) {
    kube::RunGuarded("objects", stop, [this](std::stop_token s) { Run(s); });
  });
}

void KubeSource::Stop() {
  if (worker_.joinable()) {
    worker_.request_stop();
    wake_.notify_all();
    worker_.join();
  }
  for (auto& informer : informers_) informer->Stop();
  for (auto& [name, informer] : secret_informers_) informer->Stop();
}

bool KubeSource::HasSynced() const {
  for (const auto& informer : informers_) {
    if (!informer->HasSynced()) return false;
  }
  return true;
}

void KubeSource::MarkChanged(ChangedKind kind, const kube::Object& object) {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
    if (kind != ChangedKind::kOther) changed_.emplace(kind, object.namespace_name, object.name);
  }
  wake_.notify_all();
}

void KubeSource::MarkDirty() {
  {
    std::lock_guard lock(mu_);
    dirty_ = true;
  }
  wake_.notify_all();
}

void KubeSource::Run(std::stop_token stop) {
  {
    // Also after a failed run (RunGuarded restarts it): the routes are rebuilt from the
    // stores and applied whole.
    std::lock_guard lock(mu_);
    dirty_ = true;
    resync_ = true;
  }
  bool logged_waiting = false;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      // Woken by changes; the timeout re-reads passwordSecrets and notices the first sync
      // of informers whose collections are empty (no add ever fires for them).
      wake_.wait_for(lock, stop, HasSynced() ? options_.secret_refresh : kSyncPoll,
                     [&] { return dirty_ && HasSynced(); });
      if (stop.stop_requested()) return;
      if (!HasSynced()) {
        if (!logged_waiting) spdlog::info("event=waiting_for_caches");
        logged_waiting = true;
        continue;
      }
    }
    // Settle: let a burst of related changes (a Service and its EndpointSlice) arrive.
    std::set<ChangedObject> changed;
    bool full = false;
    {
      std::unique_lock lock(mu_);
      wake_.wait_for(lock, stop, options_.settle, [] { return false; });
      dirty_ = false;
      changed = std::move(changed_);
      changed_.clear();
      full = resync_;
      resync_ = false;
    }
    if (stop.stop_requested()) return;

    // Only the objects that changed are handed over (all of them on a resync); the routes
    // they affect are recomputed on the io_context thread, which owns `routes_`.
    if (full) routes_ = std::make_shared<IncrementalRoutes>();
    auto batch = std::make_shared<ObjectBatch>(Batch(changed, full));
    auto applied = std::make_shared<std::promise<std::vector<RefusedAdvertisement>>>();
    auto result = applied->get_future();
    // Written on the io_context thread before the promise is fulfilled, read here after.
    auto refused_peers = std::make_shared<std::vector<RefusedPeer>>();
    asio::post(io_, [this, applied, refused_peers, batch, routes = routes_]() {
      try {
        batch->ApplyTo(*routes);
        auto refused_advertisements =
            speaker_.ApplyIncremental(*routes, batch->bfd_profiles, batch->full);
        *refused_peers = speaker_.refused_peers();
        applied->set_value(std::move(refused_advertisements));
      } catch (...) {
        applied->set_exception(std::current_exception());  // rethrown on the worker
      }
    });
    while (result.wait_for(kSyncPoll) != std::future_status::ready) {
      if (stop.stop_requested()) return;
    }
    RecordRefusals(result.get());
    RecordPeerRefusals(*refused_peers);
  }
}

std::expected<std::string, std::string> KubeSource::SecretPassword(
    const std::string& secret_name) {
  const auto now = std::chrono::steady_clock::now();
  // The watch's store costs nothing to read; a GET only when due (refresh, or the
  // doubling delay after a failed read: a throttled API server is not hammered).
  auto watched = secret_informers_.find(secret_name);
  if ((watched != secret_informers_.end() && watched->second->HasSynced()) ||
      passwords_.ShouldRead(secret_name, now)) {
    PasswordRead read = ReadSecretPassword(secret_name);
    const bool failed = read.kind != PasswordRead::Kind::kGood;
    const std::string error = read.error;
    passwords_.Record(secret_name, std::move(read), now);
    if (failed) {
      bool kept = false;
      auto password = passwords_.Password(secret_name, now, &kept);
      spdlog::warn("event=password_secret_unusable secret={}/{} error={} action={}",
                   options_.namespace_name, secret_name, community::Quote(error),
                   kept ? "keeping_last_good" : "refusing_peer");
    }
  }
  return passwords_.Password(secret_name, now);
}

PasswordRead KubeSource::ReadSecretPassword(const std::string& secret_name) {
  const std::string secret = "Secret " + options_.namespace_name + "/" + secret_name;
  auto decoded = [](std::expected<std::string, std::string> password) {
    if (password) return PasswordRead{PasswordRead::Kind::kGood, *password, {}};
    return PasswordRead{PasswordRead::Kind::kAbsent, {}, password.error()};
  };
  auto& informer = secret_informers_[secret_name];
  if (!informer) {
    kube::InformerOptions options = secret_options_;
    options.reflector.list.field_selector = "metadata.name=" + secret_name;
    informer = std::make_unique<kube::Informer>(client_, kube::resources::kSecrets,
                                                options_.namespace_name, options);
    informer->AddHandlers(
        {.on_add = [this](const kube::ObjectPtr&) { MarkDirty(); },
         .on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr&) { MarkDirty(); },
         .on_delete = [this](const kube::ObjectPtr&) { MarkDirty(); }});
    informer->Start();
  }
  if (informer->HasSynced()) {
    kube::ObjectPtr object = informer->Get(options_.namespace_name, secret_name);
    if (!object || !object->As<Secret>()) {
      return {PasswordRead::Kind::kAbsent, {}, secret + " not found"};
    }
    return decoded(PeerPassword(*object->As<Secret>()));
  }
  auto got = client_.Get(kube::resources::kSecrets, options_.namespace_name, secret_name);
  if (!got) {
    // 404 is the API server's word that there is no such Secret; anything else (no
    // answer, 429, 403, 5xx) says nothing about it.
    return {got.error().IsNotFound() ? PasswordRead::Kind::kAbsent : PasswordRead::Kind::kFailed,
            {}, secret + " cannot be read: " + got.error().ToString()};
  }
  rapidjson::Document document;
  std::string text = got->dump();
  document.Parse(text.data(), text.size());
  community::Diagnostics diagnostics;
  return decoded(PeerPassword(DecodeSecret(document, diagnostics)));
}

std::vector<community::Peer> KubeSource::Peers() {
  std::vector<community::Peer> peers =
      Collect<community::Peer>(peers_->ListNamespace(options_.namespace_name));
  std::set<std::string> named_secrets;
  for (auto it = peers.begin(); it != peers.end();) {
    if (!it->password_secret.name.empty()) named_secrets.insert(it->password_secret.name);
    if (!it->password_secret.name.empty() && it->password.empty()) {
      auto password = SecretPassword(it->password_secret.name);
      if (!password) {
        spdlog::error("event=peer_invalid peer={} error={}", it->meta.name,
                      community::Quote("spec.passwordSecret: " + password.error()));
        it = peers.erase(it);
        continue;
      }
      it->password = *password;
    }
    ++it;
  }
  // Secrets no BGPPeer names any more are no longer watched.
  for (auto it = secret_informers_.begin(); it != secret_informers_.end();) {
    if (named_secrets.contains(it->first)) {
      ++it;
    } else {
      it->second->Stop();
      it = secret_informers_.erase(it);
    }
  }
  return peers;
}

ObjectBatch KubeSource::Batch(const std::set<ChangedObject>& changed, bool full) {
  ObjectBatch batch;
  batch.full = full;
  // Peers, BFD profiles and the Node are few and read whole each time (passwordSecrets
  // are re-read); IncrementalRoutes ignores them when they did not change.
  batch.peers = Peers();
  batch.bfd_profiles =
      Collect<community::BfdProfile>(bfd_profiles_->ListNamespace(options_.namespace_name));
  batch.node.name = options_.node_name;
  if (kube::ObjectPtr node = nodes_->Get("", options_.node_name); node && node->As<Node>()) {
    batch.node.labels = node->As<Node>()->labels;
  } else {
    // No Node object (yet): only the label every node carries.
    batch.node.labels["kubernetes.io/hostname"] = options_.node_name;
  }
  auto informer_of = [this](ChangedKind kind) {
    switch (kind) {
      case ChangedKind::kService:
        return services_;
      case ChangedKind::kEndpointSlice:
        return slices_;
      case ChangedKind::kPool:
        return pools_;
      case ChangedKind::kAdvertisement:
        return advertisements_;
      case ChangedKind::kOther:
        break;
    }
    return static_cast<kube::Informer*>(nullptr);
  };
  if (full) {
    for (ChangedKind kind : {ChangedKind::kService, ChangedKind::kEndpointSlice,
                             ChangedKind::kPool, ChangedKind::kAdvertisement}) {
      for (const kube::ObjectPtr& object : informer_of(kind)->List()) {
        batch.objects.push_back({kind, object->namespace_name, object->name, object});
      }
    }
    return batch;
  }
  for (const auto& [kind, ns, name] : changed) {
    batch.objects.push_back({kind, ns, name, informer_of(kind)->Get(ns, name)});
  }
  return batch;
}

void KubeSource::RecordRefusals(const std::vector<RefusedAdvertisement>& refused) {
  std::map<std::string, std::string> now_refused;
  for (const RefusedAdvertisement& r : refused) {
    kube::ObjectPtr object = advertisements_->Get(r.namespace_name, r.name);
    if (!object) continue;
    const std::string key = r.namespace_name + "/" + r.name;
    const std::string state = object->resource_version + " " + r.reason;
    now_refused[key] = state;
    auto seen = recorded_.find(key);
    if (seen != recorded_.end() && seen->second == state) continue;
    const std::string reason = RefusalEventReason(r.kind);
    auto recorded =
        events_.Record(kube::ReferenceTo(objectjson::kBGPAdvertisements, *object),
                       kube::EventType::kWarning, reason, "not announced: " + r.reason);
    if (!recorded) {
      spdlog::warn("event=event_not_recorded namespace={} name={} reason={} error={}",
                   r.namespace_name, r.name, reason,
                   community::Quote(recorded.error().ToString()));
      now_refused.erase(key);  // try again on the next apply
      continue;
    }
    spdlog::info("event=refusal_recorded namespace={} name={} reason={}", r.namespace_name,
                 r.name, reason);
  }
  recorded_ = std::move(now_refused);
}

// The Event names the node (each node's speaker decides for itself) and PlanPeer's reason
// without its "BGPPeer NAME: " prefix (the involved object names the peer).
void KubeSource::RecordPeerRefusals(const std::vector<RefusedPeer>& refused) {
  std::map<std::string, std::string> now_refused;
  for (const RefusedPeer& r : refused) {
    kube::ObjectPtr object = peers_->Get(options_.namespace_name, r.name);
    if (!object) continue;
    const std::string state = object->resource_version + " " + r.error;
    now_refused[r.name] = state;
    auto seen = recorded_peers_.find(r.name);
    if (seen != recorded_peers_.end() && seen->second == state) continue;
    std::string why = r.error;
    if (const std::string prefix = "BGPPeer " + r.name + ": "; why.starts_with(prefix)) {
      why.erase(0, prefix.size());
    }
    auto recorded = events_.Record(kube::ReferenceTo(objectjson::kBGPPeers, *object),
                                   kube::EventType::kWarning, kPeerRefusedReason,
                                   "no BGP session from node " + options_.node_name + ": " + why);
    if (!recorded) {
      spdlog::warn("event=event_not_recorded namespace={} name={} reason={} error={}",
                   options_.namespace_name, r.name, kPeerRefusedReason,
                   community::Quote(recorded.error().ToString()));
      now_refused.erase(r.name);  // try again on the next apply
      continue;
    }
    spdlog::info("event=refusal_recorded namespace={} name={} reason={} field={}",
                 options_.namespace_name, r.name, kPeerRefusedReason, RefusedPeerField(r.error));
  }
  recorded_peers_ = std::move(now_refused);
}

}  // namespace bgpcomm::speaker
