#include "webhook/connection_policy.h"

#include <algorithm>
#include <tuple>

namespace bgpcomm::webhook {

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kHandshake:
      return "handshake";
    case Phase::kIdle:
      return "idle";
    case Phase::kReading:
      return "reading";
    case Phase::kHandling:
      return "handling";
    case Phase::kWriting:
      return "writing";
    case Phase::kClosing:
      return "closing";
  }
  return "unknown";
}

ConnectionClock::time_point PhaseDeadline(Phase phase, ConnectionClock::time_point since,
                                          const ConnectionLimits& limits) {
  switch (phase) {
    case Phase::kHandshake:
      return since + limits.handshake_timeout;
    case Phase::kIdle:
      return since + limits.idle_timeout;
    case Phase::kReading:
      return since + limits.request_timeout;
    case Phase::kWriting:
      return since + limits.write_timeout;
    case Phase::kClosing:
      return since + limits.linger_timeout;
    case Phase::kHandling:
      break;
  }
  return ConnectionClock::time_point::max();
}

void ConnectionTable::Add(std::uint64_t id, ConnectionClock::time_point now) {
  connections_[id] = Entry{Phase::kHandshake, now};
}

void ConnectionTable::Enter(std::uint64_t id, Phase phase, ConnectionClock::time_point now) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second = Entry{phase, now};
}

void ConnectionTable::Remove(std::uint64_t id) { connections_.erase(id); }

std::optional<Phase> ConnectionTable::PhaseOf(std::uint64_t id) const {
  auto found = connections_.find(id);
  if (found == connections_.end()) return std::nullopt;
  return found->second.phase;
}

std::vector<ConnectionEnd> ConnectionTable::TakeExpired(ConnectionClock::time_point now) {
  std::vector<std::tuple<ConnectionClock::time_point, std::uint64_t, Phase>> expired;
  for (const auto& [id, entry] : connections_) {
    auto deadline = PhaseDeadline(entry.phase, entry.since, limits_);
    if (deadline <= now) expired.emplace_back(deadline, id, entry.phase);
  }
  std::sort(expired.begin(), expired.end());
  std::vector<ConnectionEnd> ends;
  ends.reserve(expired.size());
  for (const auto& [deadline, id, phase] : expired) {
    connections_.erase(id);
    ends.push_back({id, phase});
  }
  return ends;
}

std::optional<ConnectionEnd> ConnectionTable::TakeVictim() {
  // Lower rank gives way first; within a rank, the earliest `since` (ties: lowest id,
  // so that the choice does not depend on the map's order).
  auto rank = [](Phase phase) {
    switch (phase) {
      case Phase::kClosing:
        return 0;
      case Phase::kIdle:
        return 1;
      case Phase::kHandshake:
      case Phase::kReading:
        return 2;
      case Phase::kHandling:
      case Phase::kWriting:
        break;
    }
    return 3;
  };
  std::optional<std::tuple<int, ConnectionClock::time_point, std::uint64_t>> best;
  for (const auto& [id, entry] : connections_) {
    int r = rank(entry.phase);
    if (r == 3) continue;
    auto candidate = std::make_tuple(r, entry.since, id);
    if (!best || candidate < *best) best = candidate;
  }
  if (!best) return std::nullopt;
  std::uint64_t id = std::get<2>(*best);
  Phase phase = connections_.at(id).phase;
  connections_.erase(id);
  return ConnectionEnd{id, phase};
}

}  // namespace bgpcomm::webhook
