// A loopback stand-in for kube-apiserver that replays scripted LIST answers and WATCH
// streams per resource, and records the queries it was sent.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube::testing {

struct ScriptedAnswer {
  int status = 200;
  std::string body;
};

// How a scripted WATCH stream ends after its lines.
enum class StreamEnd {
  kClean,  // terminating chunk: the apiserver's timeoutSeconds elapsed
  kDrop,   // connection cut mid-stream
  kHang,   // stays open and silent until the server shuts down
};

struct ScriptedWatch {
  int status = 200;
  std::string body;  // for non-200 answers
  std::vector<std::string> lines;
  StreamEnd end = StreamEnd::kClean;
};

class ScriptedApiserver {
 public:
  ScriptedApiserver() {
    server_.server().Get(
        R"(/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    // Core resources of every namespace, e.g. /api/v1/services (namespace "").
    server_.server().Get(
        R"(/(api)/(v1)/()([a-z]+))",
        [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    server_.Start();
  }
  ~ScriptedApiserver() {
    {
      std::lock_guard lock(mu_);
      shutting_down_ = true;
    }
    cv_.notify_all();
    server_.Stop();
  }

  std::string Url() const { return server_.Url(); }

  void AddList(const std::string& plural, ScriptedAnswer answer) {
    std::lock_guard lock(mu_);
    lists_[plural].push_back(std::move(answer));
  }
  void AddWatch(const std::string& plural, ScriptedWatch watch) {
    std::lock_guard lock(mu_);
    watches_[plural].push_back(std::move(watch));
  }
  // `LIST ns limit=.. continue=..` and `WATCH ns rv=..` lines, in arrival order.
  std::vector<std::string> Requests(const std::string& plural) const {
    std::lock_guard lock(mu_);
    auto it = requests_.find(plural);
    return it == requests_.end() ? std::vector<std::string>{} : it->second;
  }
  std::size_t WatchCount(const std::string& plural) const {
    std::size_t n = 0;
    for (const auto& r : Requests(plural)) n += r.starts_with("WATCH");
    return n;
  }

 private:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::string ns = req.matches[3];
    std::string plural = req.matches[4];
    bool watch = req.get_param_value("watch") == "1";
    std::unique_lock lock(mu_);
    if (!watch) {
      requests_[plural].push_back(
          "LIST " + ns + " continue=" + req.get_param_value("continue") +
          (req.has_param("resourceVersion") ? " rv=" + req.get_param_value("resourceVersion")
                                            : std::string()));
      auto& queue = lists_[plural];
      if (queue.empty()) {
        res.status = 500;
        res.set_content(StatusJson(500, "InternalError", "no scripted list"), "application/json");
        return;
      }
      ScriptedAnswer answer = queue.front();
      if (queue.size() > 1) queue.pop_front();  // the last answer repeats
      res.status = answer.status;
      res.set_content(answer.body, "application/json");
      return;
    }
    requests_[plural].push_back("WATCH " + ns + " rv=" + req.get_param_value("resourceVersion") +
                                " bookmarks=" + req.get_param_value("allowWatchBookmarks"));
    auto& queue = watches_[plural];
    ScriptedWatch script;
    if (queue.empty()) {
      script.end = StreamEnd::kHang;
    } else {
      script = std::move(queue.front());
      queue.pop_front();
    }
    if (script.status != 200) {
      res.status = script.status;
      res.set_content(script.body, "application/json");
      return;
    }
    auto shared = std::make_shared<ScriptedWatch>(std::move(script));
    res.set_chunked_content_provider(
        "application/json",
        [this, shared, i = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
          if (i < shared->lines.size()) {
            const std::string& line = shared->lines[i++];
            sink.write(line.data(), line.size());
            return true;
          }
          switch (shared->end) {
            case StreamEnd::kClean:
              sink.done();
              return true;
            case StreamEnd::kDrop:
              return false;
            case StreamEnd::kHang: {
              std::unique_lock lock(mu_);
              cv_.wait_for(lock, std::chrono::seconds(30), [this] { return shutting_down_; });
              return false;
            }
          }
          return false;
        });
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool shutting_down_ = false;
  std::map<std::string, std::deque<ScriptedAnswer>> lists_;
  std::map<std::string, std::deque<ScriptedWatch>> watches_;
  std::map<std::string, std::vector<std::string>> requests_;
  TestServer server_;
};

}  // namespace bgpcomm::kube::testing
