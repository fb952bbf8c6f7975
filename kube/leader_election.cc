#include "kube/leader_election.h"

#include <cstdio>
#include <ctime>

namespace bgpcomm::kube {
namespace {

std::string StringAt(const nlohmann::json& spec, const char* key) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t IntAt(const nlohmann::json& spec, const char* key, std::int64_t fallback) {
  auto it = spec.find(key);
  return it != spec.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

}  // namespace

std::string FormatMicroTime(TimePoint t) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  long fraction = static_cast<long>(micros % 1'000'000);
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction);
  return buf;
}

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, const Clock& clock,
                             Sleeper& sleeper)
    : client_(client), config_(std::move(config)), clock_(clock), sleeper_(sleeper) {}

bool LeaderElector::IsLeader() const { return TimeLeft() > Duration::zero(); }

Duration LeaderElector::TimeLeft() const {
  if (!leader_.load()) return Duration::zero();
  TimePoint renewed_at;
  {
    std::lock_guard lock(mu_);
    renewed_at = renewed_at_;
  }
  return std::max(Duration::zero(), renewed_at + config_.renew_deadline - clock_.Now());
}

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

std::string LeaderElector::LastError() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

void LeaderElector::SetError(const Error& error) {
  std::lock_guard lock(mu_);
  last_error_ =
      "lease " + config_.lease_namespace + "/" + config_.lease_name + ": " + error.ToString();
}

nlohmann::json LeaderElector::Spec(const std::string& holder, TimePoint acquire, TimePoint renew,
                                   std::int64_t transitions) const {
  return {
      {"holderIdentity", holder},
      {"leaseDurationSeconds",
       std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count()},
      {"acquireTime", FormatMicroTime(acquire)},
      {"renewTime", FormatMicroTime(renew)},
      {"leaseTransitions", transitions},
  };
}

void LeaderElector::Won(TimePoint attempt_start) {
  {
    std::lock_guard lock(mu_);
    renewed_at_ = attempt_start;
  }
  leader_ = true;
}

void LeaderElector::Observe(const nlohmann::json& spec, TimePoint now) {
  std::string holder;
  {
    std::lock_guard lock(mu_);
    if (spec == observed_spec_) return;
    observed_spec_ = spec;
    observed_time_ = now;
    holder = StringAt(spec, "holderIdentity");
    if (holder == observed_holder_) return;
    observed_holder_ = holder;
  }
  if (config_.on_new_leader && !holder.empty()) config_.on_new_leader(holder);
}

bool LeaderElector::TryAcquireOrRenew() {
  const TimePoint now = clock_.Now();
  auto current = client_.Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!current) {
    if (!current.error().IsNotFound()) {
      // A failed read ends no term: the term ends at its deadline (IsLeader()).
      SetError(current.error());
      return false;
    }
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
        {"spec", Spec(config_.identity, now, now, 0)},
    };
    auto created = client_.Create(resources::kLeases, config_.lease_namespace, lease);
    if (!created) {
      SetError(created.error());  // 409: another candidate created it first
      leader_ = false;
      return false;
    }
    Observe((*created)["spec"], now);
    Won(now);
    return true;
  }

  nlohmann::json spec = current->contains("spec") && (*current)["spec"].is_object()
                            ? (*current)["spec"]
                            : nlohmann::json::object();
  Observe(spec, now);
  const std::string holder = StringAt(spec, "holderIdentity");
  const auto duration = std::chrono::seconds(
      IntAt(spec, "leaseDurationSeconds",
            std::chrono::duration_cast<std::chrono::seconds>(config_.lease_duration).count()));
  TimePoint observed_time;
  {
    std::lock_guard lock(mu_);
    observed_time = observed_time_;
  }
  if (!holder.empty() && holder != config_.identity && now < observed_time + duration) {
    leader_ = false;
    return false;
  }
  const std::int64_t transitions = IntAt(spec, "leaseTransitions", 0);
  nlohmann::json next = *current;
  if (holder == config_.identity) {
    next["spec"] = Spec(config_.identity, now, now, transitions);
    if (spec.contains("acquireTime")) next["spec"]["acquireTime"] = spec["acquireTime"];
  } else {
    next["spec"] = Spec(config_.identity, now, now, transitions + 1);
  }
  // metadata.resourceVersion is kept: the apiserver answers 409 if the Lease changed.
  auto updated =
      client_.Replace(resources::kLeases, config_.lease_namespace, config_.lease_name, next);
  if (!updated) {
    SetError(updated.error());
    // Another writer changed the Lease: step down at once. Any other failure ends no term.
    if (updated.error().IsConflict()) leader_ = false;
    return false;
  }
  Observe((*updated)["spec"], now);
  Won(now);
  return true;
}

std::expected<void, Error> LeaderElector::Release() {
  auto current = client_.Get(resources::kLeases, config_.lease_namespace, config_.lease_name);
  if (!current) {
    if (current.error().IsNotFound()) return {};
    return std::unexpected(current.error());
  }
  nlohmann::json spec = (*current).value("spec", nlohmann::json::object());
  if (StringAt(spec, "holderIdentity") != config_.identity) return {};
  const TimePoint now = clock_.Now();
  nlohmann::json next = *current;
  next["spec"] = Spec("", now, now, IntAt(spec, "leaseTransitions", 0));
  next["spec"]["leaseDurationSeconds"] = 1;
  auto updated =
      client_.Replace(resources::kLeases, config_.lease_namespace, config_.lease_name, next);
  leader_ = false;
  if (!updated) return std::unexpected(updated.error());
  return {};
}

void LeaderElector::Run(std::stop_token stop) {
  // Real time a request may take, from a duration measured on clock_.
  auto bounded = [this](Duration left) {
    CallDeadline deadline(left);
    return TryAcquireOrRenew();
  };
  while (!stop.stop_requested()) {
    // An acquisition gets renew_deadline too: one that lands later leads for no time.
    while (!bounded(config_.renew_deadline) || !IsLeader()) {
      if (!sleeper_.SleepFor(config_.retry_period, stop)) return;
    }
    if (config_.on_started_leading) config_.on_started_leading();
    while (sleeper_.SleepFor(config_.retry_period, stop)) {
      // Each attempt gets what is left of the term; a term that ended is lost, also while
      // a request was still hanging.
      const Duration left = TimeLeft();
      if (left <= Duration::zero()) break;
      if (!bounded(left) && (!IsLeader() || (!ObservedLeader().empty() &&
                                             ObservedLeader() != config_.identity))) {
        break;  // Lost: the deadline passed or another candidate holds the Lease.
      }
    }
    leader_ = false;
    // Leader work stops before the Lease is released, so two leaders never overlap.
    if (config_.on_stopped_leading) config_.on_stopped_leading();
    if (stop.stop_requested()) {
      if (auto released = Release(); !released) SetError(released.error());
      return;
    }
  }
}

}  // namespace bgpcomm::kube
