// Deadlines and shedding for the webhook's connections, with no I/O: the server reports
// each connection's phase changes with the time, and asks which connections ran past
// the time their phase allows and which one gives way when a new connection arrives at
// the limit. Every deadline is total (from the start of the phase), never per read, so
// a client that trickles a byte at a time cannot extend it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bgpcomm::webhook {

using ConnectionClock = std::chrono::steady_clock;

struct ConnectionLimits {
  // Accept to TLS established.
  std::chrono::milliseconds handshake_timeout{3000};
  // The first byte of a request to its last (head and body).
  std::chrono::milliseconds request_timeout{3000};
  // A response, from its first byte written to its last.
  std::chrono::milliseconds write_timeout{3000};
  // Between two requests on one connection (keep-alive), and from the handshake to the
  // first byte of the first request.
  std::chrono::milliseconds idle_timeout{3000};
  // After a response that closes its connection: the rest the client sends is read and
  // dropped this long at most, so that its close is a FIN and not a reset that could
  // destroy the response before the client read it.
  std::chrono::milliseconds linger_timeout{1000};
  // Open connections at most; a new one beyond this sheds another (ConnectionTable).
  std::size_t max_connections = 512;
};

// Where a connection is. kHandling (its request is with a handler) has no deadline of
// the connection's: the handler bounds its own time (--read-through-timeout).
enum class Phase { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

// "handshake", "idle", "reading", "handling", "writing", "closing" (metric labels).
std::string_view PhaseName(Phase phase);

// The deadline of `phase` entered at `since`; time_point::max() for kHandling.
ConnectionClock::time_point PhaseDeadline(Phase phase, ConnectionClock::time_point since,
                                          const ConnectionLimits& limits);

struct ConnectionEnd {
  std::uint64_t id;
  Phase phase;  // the phase it was in
};

// The open connections, their phases and since when.
class ConnectionTable {
 public:
  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // A new connection, in kHandshake from `now`.
  void Add(std::uint64_t id, ConnectionClock::time_point now);
  // `id` enters `phase` at `now`; nothing for an id not in the table (already ended).
  void Enter(std::uint64_t id, Phase phase, ConnectionClock::time_point now);
  void Remove(std::uint64_t id);
  std::optional<Phase> PhaseOf(std::uint64_t id) const;
  std::size_t size() const { return connections_.size(); }
  // True when a new connection needs another to give way first.
  bool full() const { return connections_.size() >= limits_.max_connections; }

  // Every connection past its phase's deadline at `now`, earliest deadline first; they
  // leave the table (the caller closes them).
  std::vector<ConnectionEnd> TakeExpired(ConnectionClock::time_point now);

  // The connection that gives way to a new one, leaving the table: the one closing
  // longest, else the one idle longest, else the handshake or request that began
  // earliest. Never one whose request is being handled or answered: nullopt when every
  // connection is (the new connection is then refused).
  std::optional<ConnectionEnd> TakeVictim();

 private:
  struct Entry {
    Phase phase;
    ConnectionClock::time_point since;
  };
  ConnectionLimits limits_;
  std::unordered_map<std::uint64_t, Entry> connections_;
};

}  // namespace bgpcomm::webhook
