// What a BGPPeer's passwordSecret password is through failed reads: a pure rule, no I/O
// (speaker/kube_source.cc reads the Secrets and hands the outcomes here).
//
// The rule:
//   - A read that gets no answer or is refused (no connection, 5xx, 429 from API Priority
//     and Fairness, 401/403, any status but 404) says nothing about the Secret: the last
//     good password stays in use, as long as it takes, and the next read waits a doubling
//     delay (retry_initial up to refresh) so that a throttled API server is not hammered.
//   - An answer that the Secret holds no usable password (404, or the watch's store has no
//     such Secret, or its `password` key is missing or empty) keeps the last good password
//     for `absent_grace` from the first such answer; a Secret deleted and created again,
//     or replaced by a broken edit and then repaired, within that time never resets the
//     session. Past it the password is dropped: the peer is refused by field
//     (spec.passwordSecret) until the Secret is back.
//   - Without a last good password, any failure refuses the peer at once.
#pragma once

#include <chrono>
#include <expected>
#include <map>
#include <optional>
#include <string>

namespace bgpcomm::speaker {

struct PasswordRead {
  enum class Kind {
    kGood,     // `password` is the Secret's password
    kAbsent,   // the API server answered: no such Secret, or no usable password in it
    kFailed,   // no answer, or a refusal that says nothing about the Secret
  };
  Kind kind = Kind::kFailed;
  std::string password;
  std::string error;  // kAbsent, kFailed: why, naming the Secret
};

struct PasswordKeeperOptions {
  // A good password is read again this often when it is read by GET.
  std::chrono::nanoseconds refresh = std::chrono::seconds(30);
  // First delay after a failed or absent read; doubles up to `refresh`.
  std::chrono::nanoseconds retry_initial = std::chrono::seconds(1);
  // How long a last good password outlives its Secret.
  std::chrono::nanoseconds absent_grace = std::chrono::minutes(5);
};

class PasswordKeeper {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  explicit PasswordKeeper(PasswordKeeperOptions options = {}) : options_(options) {}

  // Whether `secret` is due for a read by GET at `now`: never read, its good password
  // older than `refresh`, or the delay after a failed read passed.
  bool ShouldRead(const std::string& secret, TimePoint now) const;
  // Records the outcome of a read made at `now`.
  void Record(const std::string& secret, PasswordRead read, TimePoint now);
  // The password to use at `now`, or why there is none (the rule above). `kept`, when
  // given, is set when the answer is a last good password that outlives a failed read.
  std::expected<std::string, std::string> Password(const std::string& secret, TimePoint now,
                                                   bool* kept = nullptr) const;

 private:
  struct State {
    std::optional<std::string> last_good;
    TimePoint good_at{};
    std::optional<TimePoint> absent_since;  // set by kAbsent, cleared by kGood
    std::string absent_error;               // the kAbsent read's error
    bool failing = false;                   // the last read was not kGood
    int failures = 0;                       // consecutive reads that were not kGood
    TimePoint retry_at{};
    std::string error;
  };
  PasswordKeeperOptions options_;
  std::map<std::string, State> states_;
};

}  // namespace bgpcomm::speaker
