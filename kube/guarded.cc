#include "kube/guarded.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace bgpcomm::kube {
namespace {

std::string Escaped(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

}  // namespace

int RunGuarded(const std::string& thread, std::stop_token stop,
               const std::function<void(std::stop_token)>& body, Sleeper& sleeper,
               Duration retry) {
  int failures = 0;
  while (!stop.stop_requested()) {
    std::string error;
    try {
      body(stop);
      return failures;
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown exception";
    }
    ++failures;
    spdlog::error("event=thread_failed thread={} error={} action=restarting", thread,
                  Escaped(error));
    if (!sleeper.SleepFor(retry, stop)) break;
  }
  return failures;
}

int RunGuarded(const std::string& thread, std::stop_token stop,
               const std::function<void(std::stop_token)>& body) {
  RealSleeper sleeper;
  return RunGuarded(thread, stop, body, sleeper);
}

}  // namespace bgpcomm::kube
