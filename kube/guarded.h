// The body of every background thread of both daemons: what it throws is logged
// (`event=thread_failed thread=NAME error=...`) instead of terminating the process, and the
// body runs again after a pause, until a stop is requested.
#pragma once

#include <functional>
#include <stop_token>
#include <string>

#include "kube/clock.h"

namespace bgpcomm::kube {

// Runs `body(stop)` until it returns or `stop` is requested. An exception is logged with
// `thread` and counted in the return value; then, after `retry` (cut short by a stop
// request), `body` runs again. Returns how many times it threw.
int RunGuarded(const std::string& thread, std::stop_token stop,
               const std::function<void(std::stop_token)>& body, Sleeper& sleeper,
               Duration retry = std::chrono::seconds(1));

// The same with the real clock.
int RunGuarded(const std::string& thread, std::stop_token stop,
               const std::function<void(std::stop_token)>& body);

}  // namespace bgpcomm::kube
