#include "kube/status_coalescer.h"

namespace bgpcomm::kube {

void StatusCoalescer::Set(const std::string& key, std::string body, SteadyDuration interval,
                          SteadyTime) {
  Entry& e = entries_[key];
  e.desired = std::move(body);
  if (Pending(e)) e.interval = e.interval ? std::min(*e.interval, interval) : interval;
}

void StatusCoalescer::Remove(const std::string& key, SteadyDuration interval, SteadyTime) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.desired.reset();
  if (!e.written && !e.exists_unknown && !e.in_flight) {
    entries_.erase(it);
    return;
  }
  if (Pending(e)) e.interval = e.interval ? std::min(*e.interval, interval) : interval;
}

void StatusCoalescer::Existing(const std::string& key) {
  Entry& e = entries_[key];
  if (!e.written) e.exists_unknown = true;
}

bool StatusCoalescer::Pending(const Entry& e) const {
  if (e.desired) return e.exists_unknown || e.written != e.desired;
  return e.written.has_value() || e.exists_unknown;
}

std::optional<SteadyTime> StatusCoalescer::DueAt(const Entry& e) const {
  if (e.in_flight || !Pending(e)) return std::nullopt;
  if (!e.last_attempt) return SteadyTime::min();
  return *e.last_attempt + e.interval.value_or(SteadyDuration{});
}

std::vector<StatusCoalescer::Write> StatusCoalescer::Due(SteadyTime now) {
  std::vector<Write> out;
  for (auto& [key, e] : entries_) {
    auto due = DueAt(e);
    if (!due || *due > now) continue;
    e.in_flight = true;
    e.last_attempt = now;
    e.sending = e.desired;
    out.push_back({key, e.desired});
  }
  return out;
}

void StatusCoalescer::Done(const std::string& key, bool ok) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  e.in_flight = false;
  if (ok) {
    e.written = e.sending;
    e.exists_unknown = false;
    if (!e.desired && !e.written) {
      entries_.erase(it);
      return;
    }
  }
  e.sending.reset();
  // A change that arrived meanwhile keeps its interval; a failure is retried after it.
  if (ok && !Pending(e)) e.interval.reset();
}

std::optional<SteadyTime> StatusCoalescer::NextDue() const {
  std::optional<SteadyTime> next;
  for (const auto& [key, e] : entries_) {
    auto due = DueAt(e);
    if (due && (!next || *due < *next)) next = due;
  }
  return next;
}

std::vector<std::string> StatusCoalescer::Keys() const {
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_) out.push_back(key);
  return out;
}

std::size_t StatusCoalescer::pending() const {
  std::size_t n = 0;
  for (const auto& [key, e] : entries_) n += Pending(e) ? 1 : 0;
  return n;
}

}  // namespace bgpcomm::kube
