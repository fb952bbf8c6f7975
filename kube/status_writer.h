// Writes status objects (a custom resource with a status subresource) at a bounded rate:
// callers say what each object should hold, a thread of its own writes the latest state of
// each at most once per interval (kube/status_coalescer.h). A write is a merge patch of
// `status` through the status subresource; an object that does not exist yet is created
// first (labels, one ownerReference), then patched. Removing deletes it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <expected>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "kube/client.h"
#include "kube/status_coalescer.h"

namespace bgpcomm::kube {

struct StatusObject {
  Resource resource;
  std::string namespace_name;
  std::string name;
  std::map<std::string, std::string> labels;
  nlohmann::json status;
};

struct StatusWriterOptions {
  // The ownerReference every object created gets (the speaker's Pod, so that the
  // garbage collector removes its objects with it); null: none.
  nlohmann::json owner;
  // Name of the writer's thread in logs.
  std::string thread_name = "status";
};

class StatusWriter {
 public:
  // `client` must outlive the writer.
  StatusWriter(Client& client, StatusWriterOptions options);
  ~StatusWriter();
  StatusWriter(const StatusWriter&) = delete;
  StatusWriter& operator=(const StatusWriter&) = delete;

  void Start();
  // Stops the thread; writes not yet due are dropped.
  void Stop();

  // Thread-safe. `object` should hold this state; written at once if it never was, else
  // at most once per `interval` (the shortest asked since its last write).
  void Set(const StatusObject& object, SteadyDuration interval);
  // Thread-safe. The object should not exist.
  void Remove(const Resource& resource, const std::string& namespace_name,
              const std::string& name, SteadyDuration interval);
  // Lists the objects of `resource` in `namespace_name` matching `label_selector` (what a
  // previous run of this component left): each is deleted unless Set before writes start.
  // One Set but owned by another than `options.owner` (the Pod this one replaces) is
  // deleted and created anew with this owner at its first write: a status PATCH keeps
  // the old ownerReference, and the garbage collector would delete the object once the
  // old Pod is gone, possibly after its last write. (Objects of kinds not adopted are
  // replaced the same way when a status PATCH answers with another owner.)
  std::expected<void, Error> Adopt(const Resource& resource, const std::string& namespace_name,
                                   const std::string& label_selector);
  // Writes start only once released (after the first complete state was Set), so that an
  // adopted object is neither deleted nor rewritten before the caller knows what it wants.
  void Release();

  // API calls made (create, patch, delete), for logs and tests.
  std::uint64_t calls() const;

 private:
  struct Target {
    Resource resource;
    std::string namespace_name;
    std::string name;
    std::map<std::string, std::string> labels;
  };
  void Run(std::stop_token stop);
  bool Perform(const Target& target, const std::optional<std::string>& body, bool replace);
  static std::string Key(const Resource& resource, const std::string& ns, const std::string& name);

  Client& client_;
  StatusWriterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  StatusCoalescer coalescer_;
  std::map<std::string, Target> targets_;
  // Keys adopted with an ownerReference other than options_.owner.
  std::set<std::string> foreign_owner_;
  bool released_ = false;
  std::uint64_t calls_ = 0;
  std::jthread thread_;
};

}  // namespace bgpcomm::kube
