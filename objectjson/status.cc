#include "objectjson/status.h"

#include <algorithm>

namespace bgpcomm::objectjson {
namespace {

std::string Joined(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : "; ") + item;
  return out;
}

}  // namespace

Condition KeepTransition(Condition next, const ConfigurationStatus& previous, const std::string& now) {
  next.last_transition = now;
  for (const Condition& c : previous.conditions) {
    if (c.type == next.type && c.status == next.status) next.last_transition = c.last_transition;
  }
  return next;
}

nlohmann::json ConfigurationStatusJson(const ConfigurationStatus& s) {
  nlohmann::json conditions = nlohmann::json::array();
  for (const Condition& c : s.conditions) {
    conditions.push_back({{"type", c.type},
                          {"status", c.status},
                          {"reason", c.reason},
                          {"message", c.message.empty() ? std::string("-") : c.message},
                          {"lastTransitionTime", c.last_transition}});
  }
  return {{"result", s.result}, {"errorSummary", s.error_summary}, {"conditions", conditions}};
}

ConfigurationStatus AllocatorConfiguration(const std::vector<std::string>& errors,
                                           const ConfigurationStatus& previous,
                                           const std::string& now) {
  ConfigurationStatus out;
  out.error_summary = Joined(errors);
  out.result = out.error_summary.empty() ? "Valid" : "Invalid";
  out.conditions.push_back(
      KeepTransition({.type = "PoolsUsable",
            .status = errors.empty() ? "True" : "False",
            .reason = errors.empty() ? "PoolsValid" : "PoolsInvalid",
            .message = errors.empty() ? "every IPAddressPool can be used" : out.error_summary},
           previous, now));
  return out;
}

}  // namespace bgpcomm::objectjson
