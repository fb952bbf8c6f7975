// Leader election over a coordination.k8s.io/v1 Lease, as client-go does it: a
// candidate takes a Lease whose holder has not renewed it for leaseDurationSeconds
// (measured on the candidate's own clock from when it last saw the record change),
// renews it every retry period, and releases it when stopped. Updates carry the
// Lease's resourceVersion, so two candidates never both win.
//
// A leader's term is measured on its own clock from the start of its last successful
// acquire or renew (the renewTime it wrote): it leads until renew_deadline after that and
// not a moment longer, whatever a hanging request does. Each attempt's requests get only
// the time left before that deadline (kube::CallDeadline), so a partitioned leader stops
// leading within renew_deadline, before any other candidate can take the Lease
// (lease_duration after it last saw the record change).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>

#include "kube/client.h"
#include "kube/clock.h"

namespace bgpcomm::kube {

struct LeaderElectionConfig {
  std::string lease_namespace;
  std::string lease_name;
  // This candidate's holderIdentity (pod name plus a random suffix, typically).
  std::string identity;
  Duration lease_duration = std::chrono::seconds(15);
  // A leader that could not renew for this long stops leading.
  Duration renew_deadline = std::chrono::seconds(10);
  // Interval between attempts to acquire or renew.
  Duration retry_period = std::chrono::seconds(2);
  // Run on the elector's thread when leadership starts or ends.
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  // Run when a different holder is observed (including this candidate).
  std::function<void(const std::string& identity)> on_new_leader;
};

// `t` as a Kubernetes MicroTime, e.g. `2026-11-25T23:51:36.123456Z`.
std::string FormatMicroTime(TimePoint t);

class LeaderElector {
 public:
  // `client`, `clock` and `sleeper` must outlive the elector.
  LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock, Sleeper& sleeper);

  // One attempt: creates the Lease if missing, takes it if its holder expired, renews it
  // if held. Returns whether this candidate holds it now.
  bool TryAcquireOrRenew();
  // Acquires, leads while renewals succeed within renew_deadline, and tries again after
  // losing the lease, until `stop`; then stops leading and releases the Lease.
  void Run(std::stop_token stop);
  // Gives the Lease up if this candidate holds it (holder cleared, duration 1 s), so a
  // successor need not wait for expiry.
  std::expected<void, Error> Release();

  // Whether this candidate holds the Lease now: the last attempt succeeded and
  // renew_deadline has not passed since it started. Writers ask before each write.
  bool IsLeader() const;
  // How long this candidate still leads without another successful renewal (zero when it
  // does not lead): the deadline a leader's write is given.
  Duration TimeLeft() const;
  // The holder last observed (empty when none).
  std::string ObservedLeader() const;
  std::string LastError() const;

 private:
  nlohmann::json Spec(const std::string& holder, TimePoint acquire, TimePoint renew,
                      std::int64_t transitions) const;
  void Observe(const nlohmann::json& spec, TimePoint now);
  void SetError(const Error& error);
  // An attempt that started at `attempt_start` succeeded.
  void Won(TimePoint attempt_start);

  Client& client_;
  LeaderElectionConfig config_;
  const Clock& clock_;
  Sleeper& sleeper_;
  std::atomic<bool> leader_{false};
  mutable std::mutex mu_;
  // Start of the last successful acquire or renew.
  TimePoint renewed_at_{};
  nlohmann::json observed_spec_;
  TimePoint observed_time_{};
  std::string observed_holder_;
  std::string last_error_;
};

}  // namespace bgpcomm::kube
