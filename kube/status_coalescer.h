// Per object, the latest state to write and when (pure: the time is an argument): status
// objects (BGPSessionState, ConfigurationState, ...) are written at most once per interval
// each, whatever their state does meanwhile, so that a flapping session cannot flood the
// API server. kube/status_writer.h performs the writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bgpcomm::kube {

using SteadyTime = std::chrono::steady_clock::time_point;
using SteadyDuration = std::chrono::steady_clock::duration;

// Per object (by key): what it should hold and what was last written, writing the latest
// state at most once per interval. Not thread-safe (the writer serialises calls).
class StatusCoalescer {
 public:
  struct Write {
    std::string key;
    std::optional<std::string> body;  // nullopt: delete the object
  };

  // `Set` with a shorter interval makes its change due sooner (e.g. a session state
  // change, 5 s) than a longer one (a prefix count, 30 s); the first write of an object
  // is due at once.
  void Set(const std::string& key, std::string body, SteadyDuration interval, SteadyTime now);
  // The object should not exist (due as a Set would be). An object never written and not
  // known to exist is simply forgotten.
  void Remove(const std::string& key, SteadyDuration interval, SteadyTime now);
  // The object exists in the API with unknown content (found at start): written again by
  // the next Set, deleted by a Remove.
  void Existing(const std::string& key);
  // The writes due at `now`, marked in flight (each key at most once until Done).
  std::vector<Write> Due(SteadyTime now);
  // The outcome of a write Due returned. A failed one is due again after its interval.
  void Done(const std::string& key, bool ok);
  // When the next write falls due; nullopt: nothing pending.
  std::optional<SteadyTime> NextDue() const;
  // Keys of the objects that exist or are to be written.
  std::vector<std::string> Keys() const;
  std::size_t pending() const;

 private:
  struct Entry {
    std::optional<std::string> desired;  // nullopt: should not exist
    std::optional<std::string> written;  // nullopt: not known to exist
    bool exists_unknown = false;         // exists with unknown content
    std::optional<SteadyTime> last_attempt;
    std::optional<SteadyDuration> interval;  // the shortest asked since the last write
    bool in_flight = false;
    std::optional<std::string> sending;
  };
  bool Pending(const Entry& e) const;
  std::optional<SteadyTime> DueAt(const Entry& e) const;
  std::map<std::string, Entry> entries_;
};

}  // namespace bgpcomm::kube
