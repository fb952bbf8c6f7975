#include "kube/informer.h"

#include "kube/guarded.h"

namespace bgpcomm::kube {

Informer::Informer(Client& client, Resource resource, std::string ns, InformerOptions options)
    : resource_(resource),
      reflector_(client, std::move(resource), std::move(ns), *this,
                 options.sleeper ? *options.sleeper : real_sleeper_,
                 options.random ? *options.random : real_random_, std::move(options.reflector)) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(InformerHandlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    RunGuarded("informer", stop, [this](std::stop_token s) { reflector_.Run(s); });
  });
}

void Informer::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(Duration timeout) const {
  std::unique_lock lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(store_.size());
  for (const auto& [key, object] : store_) out.push_back(object);
  return out;
}

std::vector<ObjectPtr> Informer::ListNamespace(std::string_view ns) const {
  std::lock_guard lock(mu_);
  std::vector<ObjectPtr> out;
  for (const auto& [key, object] : store_)
    if (object->namespace_name == ns) out.push_back(object);
  return out;
}

ObjectPtr Informer::Get(std::string_view ns, std::string_view name) const {
  std::string key = ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
  std::lock_guard lock(mu_);
  auto it = store_.find(key);
  return it == store_.end() ? nullptr : it->second;
}

void Informer::Replace(std::vector<Object> objects, const std::string&) {
  struct Change {
    ObjectPtr old_object;
    ObjectPtr new_object;
  };
  std::vector<Change> changes;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, ObjectPtr, std::less<>> next;
    for (auto& object : objects) {
      auto ptr = std::make_shared<const Object>(std::move(object));
      next[ptr->Key()] = ptr;
    }
    for (const auto& [key, old_object] : store_)
      if (!next.contains(key)) changes.push_back({old_object, nullptr});
    for (const auto& [key, new_object] : next) {
      auto it = store_.find(key);
      if (it == store_.end()) {
        changes.push_back({nullptr, new_object});
      } else if (it->second->resource_version != new_object->resource_version) {
        changes.push_back({it->second, new_object});
      }
    }
    store_ = std::move(next);
  }
  for (const auto& change : changes)
    for (const auto& h : handlers_) {
      if (!change.new_object) {
        if (h.on_delete) h.on_delete(change.old_object);
      } else if (!change.old_object) {
        if (h.on_add) h.on_add(change.new_object);
      } else if (h.on_update) {
        h.on_update(change.old_object, change.new_object);
      }
    }
  // Synced only once the handlers have seen the whole list: a consumer that waits for
  // the sync (the allocator, the resolver) never acts on a partly delivered list.
  {
    std::lock_guard lock(mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
}

void Informer::Apply(WatchEventType type, Object decoded) {
  auto object = std::make_shared<const Object>(std::move(decoded));
  ObjectPtr old_object;
  {
    std::lock_guard lock(mu_);
    auto it = store_.find(object->Key());
    if (it != store_.end()) old_object = it->second;
    if (type == WatchEventType::kDeleted) {
      if (it != store_.end()) store_.erase(it);
    } else {
      store_[object->Key()] = object;
    }
  }
  for (const auto& h : handlers_) {
    if (type == WatchEventType::kDeleted) {
      if (h.on_delete) h.on_delete(object);  // the last state, as the event carries it
    } else if (old_object) {
      if (h.on_update) h.on_update(old_object, object);
    } else if (h.on_add) {
      h.on_add(object);
    }
  }
}

}  // namespace bgpcomm::kube
