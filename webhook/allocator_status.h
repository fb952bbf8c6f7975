// The allocator's ConfigurationState (metallb.io/v1beta1, named "allocator" in the pools'
// namespace): Valid, or Invalid with the reason the IPAddressPools cannot be used (the
// allocator then keeps the previous pools, as MetalLB's controller does). Written by the
// leader only, at most once per interval (kube::StatusWriter).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "community/diagnostic.h"
#include "kube/status_writer.h"
#include "objectjson/status.h"

namespace bgpcomm::webhook {

inline constexpr char kAllocatorConfigurationName[] = "allocator";

class AllocatorStatus {
 public:
  AllocatorStatus(kube::Client& client, std::string namespace_name,
                  std::chrono::milliseconds interval = std::chrono::seconds(5));
  void Start();
  void Stop();
  // The pools were judged: `errors` empty means they are used.
  void PoolsJudged(const std::vector<community::Diagnostic>& errors);

 private:
  std::string namespace_name_;
  std::chrono::milliseconds interval_;
  kube::StatusWriter writer_;
  objectjson::ConfigurationStatus previous_;
  bool judged_ = false;
};

}  // namespace bgpcomm::webhook
