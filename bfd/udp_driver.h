// The UDP socket and timer driver of BFD sessions (standalone Asio): the thin adapter around
// the pure `Session`. It feeds each session what the network and the clock say and executes
// the actions it returns; every handler runs on the io_context thread.
//
// Single hop (RFC 5881): control packets go to UDP port 3784 from a source port in
// 49152..65535 (one port per session, kept for its life) with TTL / hop limit 255; received
// packets are accepted only with TTL 255 (§5, the GTSM check: a packet from further away
// than the link is dropped). Multihop (RFC 5883, for eBGP multihop peers): port 4784, TTL 255
// sent, received TTL at least the session's minimum (MetalLB's `minimumTtl`, default 254).
// A received packet is matched to its session by Your Discriminator, or by its source
// address while the peer does not know our discriminator yet (§6.3).
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <array>
#include <asio.hpp>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "bfd/session.h"

namespace bgpcomm::bfd {

inline constexpr std::uint16_t kSingleHopPort = 3784;  // RFC 5881 §4
inline constexpr std::uint16_t kMultihopPort = 4784;   // RFC 5883 §5
inline constexpr std::uint8_t kSingleHopTtl = 255;     // RFC 5881 §5

struct DriverOptions {
  // Where we listen and where the peers listen. Only tests change them (two drivers on one
  // host cannot both own 3784).
  std::uint16_t single_hop_port = kSingleHopPort;
  std::uint16_t multihop_port = kMultihopPort;
  std::uint16_t peer_single_hop_port = kSingleHopPort;
  std::uint16_t peer_multihop_port = kMultihopPort;
  // The source ports of our sessions (RFC 5881 §4: 49152..65535).
  std::uint16_t source_port_min = 49152;
  std::uint16_t source_port_max = 65535;
};

// The path one session watches.
struct PathConfig {
  asio::ip::address peer;
  std::optional<asio::ip::address> local;  // our source address; none: the route's
  bool multihop = false;
  std::uint8_t minimum_ttl = 254;  // multihop: the lowest TTL accepted (MetalLB minimumTtl)
  bool operator==(const PathConfig&) const = default;
};

// Packets the listeners dropped, by reason (what a metric or a test reads).
struct DriverStats {
  std::uint64_t received = 0;      // handed to a session
  std::uint64_t malformed = 0;     // Decode() refused it
  std::uint64_t bad_ttl = 0;       // TTL below what the path requires
  std::uint64_t no_session = 0;    // no session for its discriminator or source
  std::uint64_t sent = 0;
  std::uint64_t send_failed = 0;   // the socket refused it (no route, buffer full)
};

// A session's state change, as the core reported it, with what the peer said last.
struct StateChange {
  State from;
  State to;
  Diagnostic diagnostic;
  State remote_state;
  Diagnostic remote_diagnostic;
};
using StateHandler = std::function<void(const StateChange&)>;

class Driver {
 public:
  using Id = std::uint32_t;  // the session's local discriminator

  Driver(asio::io_context& io, DriverOptions options = {});
  // Closes every socket without telling the peers (they detect it): a crash looks the same.
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // Starts a session on `path` (config.local_discriminator is chosen here). Fails, saying
  // why, when the listening port or a source port cannot be bound.
  std::expected<Id, std::string> Add(const PathConfig& path, SessionConfig config,
                                     StateHandler on_change);
  // AdminDown to the peer (RFC 5880 §6.8.16), then the session and its socket are gone.
  void Remove(Id id);

  std::optional<State> state(Id id) const;
  const Session* session(Id id) const;
  const DriverStats& stats() const { return stats_; }
  // The UDP source port of a session (0: unknown id).
  std::uint16_t source_port(Id id) const;

 private:
  struct Entry;
  struct Listener;
  std::expected<Listener*, std::string> ListenerFor(bool v4, bool multihop);
  void WaitReadable(Listener* listener);
  void Drain(Listener* listener);
  void Deliver(bool multihop, const asio::ip::address& from, int ttl,
               std::span<const std::uint8_t> datagram);
  void Handle(Id id, const Event& ev);
  void Arm(Entry& e, Timer timer, TimePoint deadline);
  void Send(Entry& e, const ControlPacket& packet);

  asio::io_context& io_;
  DriverOptions options_;
  std::map<Id, std::unique_ptr<Entry>> sessions_;
  std::map<std::pair<bool, bool>, std::unique_ptr<Listener>> listeners_;  // (v4, multihop)
  Id next_id_;
  std::uint64_t next_port_;
  DriverStats stats_;
  // Handlers queued after this driver is gone see it expired and touch nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace bgpcomm::bfd
