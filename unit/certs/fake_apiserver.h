// An in-memory stand-in for kube-apiserver on loopback: GET, POST (409 AlreadyExists
// when the name is taken) and PUT (409 Conflict on a stale resourceVersion) of any
// object path, which is what the certificate manager's compare-and-swap logic needs.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "unit/kube/test_support.h"

namespace bgpcomm::certs::testing {

class FakeApiserver {
 public:
  FakeApiserver() {
    auto& server = server_.server();
    server.Get("(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      HoldGet(req.path);
      std::lock_guard lock(mu_);
      ++counts_["GET " + req.path];
      auto it = objects_.find(req.path);
      if (it == objects_.end()) return Status(res, 404, "NotFound", req.path + " not found");
      res.set_content(it->second.dump(), "application/json");
    });
    server.Post("(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++counts_["POST " + req.path];
      auto object = nlohmann::json::parse(req.body);
      std::string path = req.path + "/" + object["metadata"]["name"].get<std::string>();
      if (objects_.contains(path)) return Status(res, 409, "AlreadyExists", path + " exists");
      object["metadata"]["resourceVersion"] = std::to_string(++version_);
      objects_[path] = object;
      res.status = 201;
      res.set_content(object.dump(), "application/json");
    });
    server.Put("(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++counts_["PUT " + req.path];
      auto it = objects_.find(req.path);
      if (it == objects_.end()) return Status(res, 404, "NotFound", req.path + " not found");
      auto object = nlohmann::json::parse(req.body);
      if (object["metadata"].value("resourceVersion", "") !=
          it->second["metadata"]["resourceVersion"].get<std::string>()) {
        return Status(res, 409, "Conflict", "the object has been modified");
      }
      object["metadata"]["resourceVersion"] = std::to_string(++version_);
      it->second = object;
      res.set_content(object.dump(), "application/json");
    });
    server_.Start();
  }

  std::string Url() const { return server_.Url(); }

  void Put(const std::string& path, nlohmann::json object) {
    std::lock_guard lock(mu_);
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    objects_[path] = std::move(object);
  }
  void Remove(const std::string& path) {
    std::lock_guard lock(mu_);
    objects_.erase(path);
  }
  std::optional<nlohmann::json> Object(const std::string& path) const {
    std::lock_guard lock(mu_);
    auto it = objects_.find(path);
    if (it == objects_.end()) return std::nullopt;
    return it->second;
  }
  // How many `METHOD path` requests arrived.
  int Count(const std::string& request) const {
    std::lock_guard lock(mu_);
    auto it = counts_.find(request);
    return it == counts_.end() ? 0 : it->second;
  }
  // Holds the next `n` GETs of `path` until all `n` have arrived, so that `n` clients
  // read the same state before any of them writes.
  void HoldGets(const std::string& path, int n) {
    std::lock_guard lock(mu_);
    held_path_ = path;
    held_remaining_ = n;
  }

 private:
  void HoldGet(const std::string& path) {
    std::unique_lock lock(mu_);
    if (path != held_path_ || held_remaining_ <= 0) return;
    if (--held_remaining_ == 0) {
      cv_.notify_all();
      return;
    }
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return held_remaining_ == 0; });
  }
  static void Status(httplib::Response& res, int code, const std::string& reason,
                     const std::string& message) {
    res.status = code;
    res.set_content(nlohmann::json{{"kind", "Status"},
                                   {"apiVersion", "v1"},
                                   {"status", "Failure"},
                                   {"reason", reason},
                                   {"message", message},
                                   {"code", code}}
                        .dump(),
                    "application/json");
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, nlohmann::json> objects_;
  std::map<std::string, int> counts_;
  std::string held_path_;
  int held_remaining_ = 0;
  int version_ = 100;
  kube::testing::TestServer server_;
};

}  // namespace bgpcomm::certs::testing
