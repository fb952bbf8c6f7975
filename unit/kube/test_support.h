// Helpers for kube/ tests: a loopback apiserver stand-in, a fake clock, sleeper and
// random source, temporary folders, and waiting on conditions with a deadline.
#pragma once

#include <httplib.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/clock.h"

namespace bgpcomm::kube::testing {

// An httplib::Server on 127.0.0.1, port 0, serving from its own thread. By default it
// closes each connection after one answer (`Connection: close`); tests of connection
// reuse allow more.
class TestServer {
 public:
  explicit TestServer(std::size_t keep_alive_max_count = 1) {
    server_.set_keep_alive_max_count(keep_alive_max_count);
    port_ = server_.bind_to_any_port("127.0.0.1");
  }
  ~TestServer() { Stop(); }
  // Starts serving; call after the handlers are registered.
  void Start() {
    thread_ = std::jthread([this] { server_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it.
    while (!server_.is_running()) std::this_thread::yield();
  }
  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  httplib::Server& server() { return server_; }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::jthread thread_;
};

class FakeClock final : public Clock {
 public:
  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }

 private:
  mutable std::mutex mu_;
  TimePoint now_ = TimePoint(std::chrono::seconds(1'800'000'000));
};

// Records requested delays and returns at once (advancing `clock` if given).
class FakeSleeper final : public Sleeper {
 public:
  explicit FakeSleeper(FakeClock* clock = nullptr) : clock_(clock) {}
  bool SleepFor(Duration d, std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      delays_.push_back(d);
    }
    if (clock_) clock_->Advance(d);
    if (hook_) hook_();
    std::this_thread::yield();
    return !stop.stop_requested();
  }
  std::vector<Duration> Delays() const {
    std::lock_guard lock(mu_);
    return delays_;
  }
  // Runs on every sleep, e.g. to stop the loop after N sleeps.
  void SetHook(std::function<void()> hook) { hook_ = std::move(hook); }

 private:
  FakeClock* clock_;
  mutable std::mutex mu_;
  std::vector<Duration> delays_;
  std::function<void()> hook_;
};

class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double value) : value_(value) {}
  double Uniform() override { return value_; }

 private:
  double value_;
};

// Polls `condition` until it holds or `timeout` passes; true when it held.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    // A poll interval, not a timing assumption: the deadline bounds the wait.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

// A temporary folder removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bgpcomm-kube-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string full = path_ + "/" + name;
    std::ofstream(full, std::ios::binary | std::ios::trunc) << content;
    return full;
  }

 private:
  std::string path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace bgpcomm::kube::testing
