#include "speaker/password_keeper.h"

#include <algorithm>

namespace bgpcomm::speaker {

namespace {

// "5m0s"-style text of a whole number of seconds, for error messages.
std::string Seconds(std::chrono::nanoseconds d) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return s % 60 == 0 && s >= 60 ? std::to_string(s / 60) + "m" : std::to_string(s) + "s";
}

}  // namespace

bool PasswordKeeper::ShouldRead(const std::string& secret, TimePoint now) const {
  auto it = states_.find(secret);
  if (it == states_.end()) return true;
  const State& state = it->second;
  if (state.failing) return now >= state.retry_at;
  return now >= state.good_at + options_.refresh;
}

void PasswordKeeper::Record(const std::string& secret, PasswordRead read, TimePoint now) {
  State& state = states_[secret];
  if (read.kind == PasswordRead::Kind::kGood) {
    state.last_good = std::move(read.password);
    state.good_at = now;
    state.absent_since.reset();
    state.failing = false;
    state.failures = 0;
    state.error.clear();
    return;
  }
  if (read.kind == PasswordRead::Kind::kAbsent) {
    if (!state.absent_since) state.absent_since = now;
    state.absent_error = read.error;
  }
  state.failing = true;
  ++state.failures;
  state.error = std::move(read.error);
  auto delay = options_.retry_initial;
  for (int i = 1; i < state.failures && delay < options_.refresh; ++i) delay *= 2;
  state.retry_at = now + std::min(delay, options_.refresh);
}

std::expected<std::string, std::string> PasswordKeeper::Password(const std::string& secret,
                                                                 TimePoint now,
                                                                 bool* kept) const {
  if (kept) *kept = false;
  auto it = states_.find(secret);
  if (it == states_.end()) return std::unexpected("not read yet");
  const State& state = it->second;
  if (!state.failing) return *state.last_good;
  if (!state.last_good) return std::unexpected(state.error);
  if (state.absent_since && now - *state.absent_since >= options_.absent_grace) {
    return std::unexpected(state.absent_error + " (the last good password was dropped after " +
                           Seconds(options_.absent_grace) + ")");
  }
  if (kept) *kept = true;
  return *state.last_good;
}

}  // namespace bgpcomm::speaker
