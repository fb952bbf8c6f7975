#include "kube/status_writer.h"

#include <spdlog/spdlog.h>

#include "kube/guarded.h"

namespace bgpcomm::kube {
namespace {

// Whether `item` names `owner` (by uid) among its ownerReferences.
bool OwnedBy(const nlohmann::json& item, const nlohmann::json& owner) {
  const nlohmann::json& refs = item["metadata"].value("ownerReferences", nlohmann::json::array());
  if (!refs.is_array()) return false;
  const std::string uid = owner.value("uid", "");
  for (const nlohmann::json& ref : refs) {
    if (ref.is_object() && ref.value("uid", "") == uid) return true;
  }
  return false;
}

}  // namespace

StatusWriter::StatusWriter(Client& client, StatusWriterOptions options)
    : client_(client), options_(std::move(options)) {}

StatusWriter::~StatusWriter() { Stop(); }

void StatusWriter::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    RunGuarded(options_.thread_name, stop, [this](std::stop_token s) { Run(s); });
  });
}

void StatusWriter::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.notify_all();
  thread_.join();
}

std::string StatusWriter::Key(const Resource& resource, const std::string& ns,
                              const std::string& name) {
  return resource.plural + "/" + ns + "/" + name;
}

void StatusWriter::Set(const StatusObject& object, SteadyDuration interval) {
  std::string key = Key(object.resource, object.namespace_name, object.name);
  nlohmann::json body = {{"labels", object.labels}, {"status", object.status}};
  {
    std::lock_guard lock(mu_);
    targets_[key] = {object.resource, object.namespace_name, object.name, object.labels};
    coalescer_.Set(key, body.dump(), interval, std::chrono::steady_clock::now());
  }
  wake_.notify_all();
}

void StatusWriter::Remove(const Resource& resource, const std::string& namespace_name,
                          const std::string& name, SteadyDuration interval) {
  {
    std::lock_guard lock(mu_);
    coalescer_.Remove(Key(resource, namespace_name, name), interval,
                      std::chrono::steady_clock::now());
  }
  wake_.notify_all();
}

std::expected<void, Error> StatusWriter::Adopt(const Resource& resource,
                                               const std::string& namespace_name,
                                               const std::string& label_selector) {
  auto listed = client_.List(resource, namespace_name, {.label_selector = label_selector});
  std::lock_guard lock(mu_);
  ++calls_;
  if (!listed) return std::unexpected(listed.error());
  for (const nlohmann::json& item : listed->items) {
    std::string name = item["metadata"].value("name", "");
    if (name.empty()) continue;
    std::string key = Key(resource, namespace_name, name);
    if (!targets_.contains(key)) targets_[key] = {resource, namespace_name, name, {}};
    if (!options_.owner.is_null() && !OwnedBy(item, options_.owner)) foreign_owner_.insert(key);
    coalescer_.Existing(key);
    // Deleted unless Set before writes start.
    coalescer_.Remove(key, SteadyDuration{}, std::chrono::steady_clock::now());
  }
  return {};
}

void StatusWriter::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  wake_.notify_all();
}

std::uint64_t StatusWriter::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

void StatusWriter::Run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    std::vector<StatusCoalescer::Write> due;
    std::vector<Target> targets;
    std::vector<bool> replace;
    {
      std::unique_lock lock(mu_);
      auto next = released_ ? coalescer_.NextDue() : std::nullopt;
      if (!next) {
        wake_.wait(lock, stop, [&] { return released_ && coalescer_.NextDue().has_value(); });
      } else if (*next > std::chrono::steady_clock::now()) {
        // Woken early by a Set (which may make something due sooner), or at the due time.
        SteadyTime deadline = *next;
        wake_.wait_until(lock, stop, deadline, [&] {
          auto sooner = coalescer_.NextDue();
          return sooner && *sooner < deadline;
        });
      }
      if (stop.stop_requested()) return;
      if (!released_) continue;
      due = coalescer_.Due(std::chrono::steady_clock::now());
      for (const auto& write : due) {
        targets.push_back(targets_.at(write.key));
        replace.push_back(foreign_owner_.contains(write.key));
      }
    }
    for (std::size_t i = 0; i < due.size(); ++i) {
      bool ok = Perform(targets[i], due[i].body, replace[i]);
      std::lock_guard lock(mu_);
      coalescer_.Done(due[i].key, ok);
      if (ok) foreign_owner_.erase(due[i].key);
      if (ok && !due[i].body) targets_.erase(due[i].key);
    }
  }
}

bool StatusWriter::Perform(const Target& t, const std::optional<std::string>& body,
                           bool replace) {
  auto count = [this](int n) {
    std::lock_guard lock(mu_);
    calls_ += n;
  };
  const std::string kind = t.resource.kind;
  if (!body || replace) {
    // A removal, or an object another owner left: deleted (then created anew below).
    auto deleted = client_.Delete(t.resource, t.namespace_name, t.name);
    count(1);
    if (!deleted && !deleted.error().IsNotFound()) {
      spdlog::warn("event=status_write_failed kind={} name={} action=delete error=\"{}\"", kind,
                   t.name, deleted.error().ToString());
      return false;
    }
    spdlog::debug("event=status_deleted kind={} name={}", kind, t.name);
    if (!body) return true;
    spdlog::info("event=status_owner_replaced kind={} name={}", kind, t.name);
  }
  nlohmann::json parsed = nlohmann::json::parse(*body);
  std::string patch = nlohmann::json({{"status", parsed["status"]}}).dump();
  auto patch_status = [&] {
    count(1);
    return client_.Patch(t.resource, t.namespace_name, t.name, PatchType::kMerge, patch,
                         {.subresource = "status"});
  };
  std::optional<decltype(patch_status())> patched;
  if (!replace) {
    patched = patch_status();
    // A kind not adopted (listed) at start: the answer says whose the object is.
    if (*patched && !options_.owner.is_null() && !OwnedBy(**patched, options_.owner)) {
      return Perform(t, body, true);
    }
  }
  if (replace || (!*patched && patched->error().IsNotFound())) {
    nlohmann::json object = {
        {"apiVersion", t.resource.ApiVersion()},
        {"kind", t.resource.kind},
        {"metadata",
         {{"name", t.name}, {"namespace", t.namespace_name}, {"labels", parsed["labels"]}}}};
    if (!options_.owner.is_null()) object["metadata"]["ownerReferences"] = {options_.owner};
    auto created = client_.Create(t.resource, t.namespace_name, object);
    count(1);
    if (!created && created.error().http_status != 409) {
      spdlog::warn("event=status_write_failed kind={} name={} action=create error=\"{}\"", kind,
                   t.name, created.error().ToString());
      return false;
    }
    patched = patch_status();
  }
  if (!*patched) {
    spdlog::warn("event=status_write_failed kind={} name={} action=patch error=\"{}\"", kind,
                 t.name, patched->error().ToString());
    return false;
  }
  spdlog::debug("event=status_written kind={} name={}", kind, t.name);
  return true;
}

}  // namespace bgpcomm::kube
