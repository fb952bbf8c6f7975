#include "bfd/udp_driver.h"

#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace bgpcomm::bfd {
namespace {

using asio::ip::udp;

// IP precedence 6 (CS6, network control), as routers send BFD.
constexpr int kTosNetworkControl = 0xc0;

std::size_t TimerIndex(Timer t) { return t == Timer::kTransmit ? 0 : 1; }

// Equal addresses, an IPv6 scope aside (a link-local peer arrives with its interface).
bool SameAddress(const asio::ip::address& a, const asio::ip::address& b) {
  if (a.is_v4() != b.is_v4()) {
    // An IPv4-mapped IPv6 source on a dual socket; ours are v6-only, so not expected.
    return false;
  }
  if (a.is_v4()) return a == b;
  return a.to_v6().to_bytes() == b.to_v6().to_bytes();
}

std::string ErrorText(const std::error_code& ec) { return ec.message(); }

}  // namespace

struct Driver::Entry {
  Entry(asio::io_context& io, SessionConfig config)
      : session(config), socket(io), timers{asio::steady_timer(io), asio::steady_timer(io)} {}
  Id id = 0;
  PathConfig path;
  Session session;
  udp::socket socket;
  udp::endpoint destination;
  std::array<asio::steady_timer, 2> timers;
  std::array<std::uint64_t, 2> generation{};
  StateHandler on_change;
};

struct Driver::Listener {
  explicit Listener(asio::io_context& io) : socket(io) {}
  udp::socket socket;
  bool multihop = false;
};

Driver::Driver(asio::io_context& io, DriverOptions options) : io_(io), options_(options) {
  std::random_device random;
  next_id_ = random();
  next_port_ = random();
}

Driver::~Driver() {
  *alive_ = false;
  for (auto& [id, e] : sessions_) {
    for (auto& t : e->timers) t.cancel();
    std::error_code ec;
    e->socket.close(ec);
  }
  for (auto& [key, l] : listeners_) {
    std::error_code ec;
    l->socket.close(ec);
  }
}

std::expected<Driver::Listener*, std::string> Driver::ListenerFor(bool v4, bool multihop) {
  auto key = std::make_pair(v4, multihop);
  if (auto it = listeners_.find(key); it != listeners_.end()) return it->second.get();
  auto l = std::make_unique<Listener>(io_);
  l->multihop = multihop;
  std::uint16_t port = multihop ? options_.multihop_port : options_.single_hop_port;
  std::error_code ec;
  l->socket.open(v4 ? udp::v4() : udp::v6(), ec);
  if (!ec && !v4) l->socket.set_option(asio::ip::v6_only(true), ec);
  if (!ec) {
    int on = 1;
    // The TTL / hop limit of each packet comes with it (ancillary data): RFC 5881 §5.
    if (v4) {
      if (setsockopt(l->socket.native_handle(), IPPROTO_IP, IP_RECVTTL, &on, sizeof on) != 0) {
        ec = std::error_code(errno, std::system_category());
      }
    } else if (setsockopt(l->socket.native_handle(), IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on,
                          sizeof on) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  if (!ec) l->socket.bind(udp::endpoint(v4 ? udp::v4() : udp::v6(), port), ec);
  if (!ec) l->socket.non_blocking(true, ec);
  if (ec) {
    return std::unexpected("cannot listen on UDP port " + std::to_string(port) + " (" +
                           (v4 ? "IPv4" : "IPv6") + "): " + ErrorText(ec));
  }
  Listener* raw = l.get();
  listeners_.emplace(key, std::move(l));
  WaitReadable(raw);
  return raw;
}

void Driver::WaitReadable(Listener* listener) {
  std::weak_ptr<bool> alive = alive_;
  listener->socket.async_wait(udp::socket::wait_read, [this, alive, listener](std::error_code ec) {
    if (ec || alive.expired()) return;
    Drain(listener);
    WaitReadable(listener);
  });
}

void Driver::Drain(Listener* listener) {
  // At most a burst per wake-up, so one flooding source cannot starve the loop.
  for (int i = 0; i < 256; ++i) {
    std::array<std::uint8_t, 512> buffer{};
    sockaddr_storage from{};
    alignas(cmsghdr) std::array<char, 256> control{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    ssize_t n = recvmsg(listener->socket.native_handle(), &msg, MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: drained; anything else: try again on the next wake-up
    int ttl = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
        std::memcpy(&ttl, CMSG_DATA(c), sizeof ttl);
      }
    }
    asio::ip::address address;
    if (from.ss_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&from);
      address = asio::ip::address_v4(ntohl(sin->sin_addr.s_addr));
    } else if (from.ss_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&from);
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), sin6->sin6_addr.s6_addr, bytes.size());
      address = asio::ip::address_v6(bytes, sin6->sin6_scope_id);
    } else {
      continue;
    }
    Deliver(listener->multihop, address, ttl,
            std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)));
  }
}

void Driver::Deliver(bool multihop, const asio::ip::address& from, int ttl,
                     std::span<const std::uint8_t> datagram) {
  auto packet = Decode(datagram);
  if (!packet) {
    ++stats_.malformed;
    return;
  }
  Entry* entry = nullptr;
  if (packet->your_discriminator != 0) {
    auto it = sessions_.find(packet->your_discriminator);
    if (it != sessions_.end() && it->second->path.multihop == multihop &&
        SameAddress(it->second->path.peer, from)) {
      entry = it->second.get();
    }
  } else {
    for (auto& [id, e] : sessions_) {
      if (e->path.multihop == multihop && SameAddress(e->path.peer, from)) {
        entry = e.get();
        break;
      }
    }
  }
  if (!entry) {
    ++stats_.no_session;
    return;
  }
  // RFC 5881 §5: single hop accepts TTL 255 only; RFC 5883 §5: multihop at least the minimum.
  int required = multihop ? entry->path.minimum_ttl : kSingleHopTtl;
  if (ttl < required) {
    ++stats_.bad_ttl;
    return;
  }
  ++stats_.received;
  Handle(entry->id, event::Received{*packet});
}

std::expected<Driver::Id, std::string> Driver::Add(const PathConfig& path, SessionConfig config,
                                                   StateHandler on_change) {
  bool v4 = path.peer.is_v4();
  if (path.local && path.local->is_v4() != v4) {
    return std::unexpected("the source address " + path.local->to_string() +
                           " is not of the peer's family");
  }
  if (auto listener = ListenerFor(v4, path.multihop); !listener) {
    return std::unexpected(listener.error());
  }
  do {
    ++next_id_;
  } while (next_id_ == 0 || sessions_.contains(next_id_));
  config.local_discriminator = next_id_;
  config.jitter_seed ^= next_id_;
  auto e = std::make_unique<Entry>(io_, config);
  e->id = next_id_;
  e->path = path;
  e->on_change = std::move(on_change);
  e->destination = udp::endpoint(
      path.peer, path.multihop ? options_.peer_multihop_port : options_.peer_single_hop_port);

  std::error_code ec;
  e->socket.open(v4 ? udp::v4() : udp::v6(), ec);
  if (ec) return std::unexpected("cannot open a UDP socket: " + ErrorText(ec));
  // RFC 5881 §5 / RFC 5883 §5: sent with TTL / hop limit 255.
  e->socket.set_option(asio::ip::unicast::hops(kSingleHopTtl), ec);
  if (!ec && v4) {
    if (setsockopt(e->socket.native_handle(), IPPROTO_IP, IP_TOS, &kTosNetworkControl,
                   sizeof kTosNetworkControl) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  if (!ec) e->socket.non_blocking(true, ec);
  if (ec) return std::unexpected("cannot set the TTL of a BFD socket: " + ErrorText(ec));
  // RFC 5881 §4: one source port in 49152..65535 for the whole session.
  asio::ip::address local = path.local.value_or(v4 ? asio::ip::address(asio::ip::address_v4::any())
                                                   : asio::ip::address(asio::ip::address_v6::any()));
  std::uint32_t span = static_cast<std::uint32_t>(options_.source_port_max) -
                       options_.source_port_min + 1;
  bool bound = false;
  std::error_code bind_error;
  for (std::uint32_t attempt = 0; attempt < std::min<std::uint32_t>(span, 512) && !bound;
       ++attempt) {
    auto port = static_cast<std::uint16_t>(options_.source_port_min + (next_port_++ % span));
    e->socket.bind(udp::endpoint(local, port), bind_error);
    bound = !bind_error;
  }
  if (!bound) {
    return std::unexpected("cannot bind a source port in " +
                           std::to_string(options_.source_port_min) + ".." +
                           std::to_string(options_.source_port_max) + " on " + local.to_string() +
                           ": " + ErrorText(bind_error));
  }
  Id id = e->id;
  sessions_.emplace(id, std::move(e));
  Handle(id, event::Start{});
  return id;
}

void Driver::Remove(Id id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Entry& e = *it->second;
  // Tell the peer (AdminDown), without calling back: the owner asked for it.
  for (const Action& a : e.session.Handle(event::Stop{}, Clock::now())) {
    if (const auto* send = std::get_if<action::Send>(&a)) Send(e, send->packet);
  }
  for (auto& t : e.timers) t.cancel();
  std::error_code ec;
  e.socket.close(ec);
  sessions_.erase(it);
}

std::optional<State> Driver::state(Id id) const {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second->session.state();
}

const Session* Driver::session(Id id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second->session;
}

std::uint16_t Driver::source_port(Id id) const {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return 0;
  std::error_code ec;
  auto local = it->second->socket.local_endpoint(ec);
  return ec ? 0 : local.port();
}

void Driver::Handle(Id id, const Event& ev) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Entry& e = *it->second;
  std::vector<StateChange> changes;
  for (const Action& a : e.session.Handle(ev, Clock::now())) {
    if (const auto* send = std::get_if<action::Send>(&a)) {
      Send(e, send->packet);
    } else if (const auto* arm = std::get_if<action::ArmTimer>(&a)) {
      Arm(e, arm->timer, arm->deadline);
    } else if (const auto* disarm = std::get_if<action::DisarmTimer>(&a)) {
      std::size_t i = TimerIndex(disarm->timer);
      ++e.generation[i];
      e.timers[i].cancel();
    } else if (const auto* changed = std::get_if<action::StateChanged>(&a)) {
      changes.push_back({changed->from, changed->to, changed->diagnostic,
                         e.session.remote_state(), e.session.remote_diagnostic()});
    }
  }
  // Last: a handler may remove this very session.
  StateHandler handler = e.on_change;
  for (const StateChange& c : changes) {
    if (handler) handler(c);
  }
}

void Driver::Arm(Entry& e, Timer timer, TimePoint deadline) {
  std::size_t i = TimerIndex(timer);
  std::uint64_t generation = ++e.generation[i];
  e.timers[i].expires_at(deadline);
  std::weak_ptr<bool> alive = alive_;
  Id id = e.id;
  e.timers[i].async_wait([this, alive, id, i, timer, generation](std::error_code ec) {
    if (ec || alive.expired()) return;
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->generation[i] != generation) return;
    Handle(id, event::TimerExpired{timer});
  });
}

void Driver::Send(Entry& e, const ControlPacket& packet) {
  std::vector<std::uint8_t> bytes = Encode(packet);
  std::error_code ec;
  // Non-blocking: a full socket buffer drops this packet (BFD tolerates loss) rather than
  // stalling the loop every BGP session shares.
  e.socket.send_to(asio::buffer(bytes), e.destination, 0, ec);
  if (ec) {
    ++stats_.send_failed;
  } else {
    ++stats_.sent;
  }
}

}  // namespace bgpcomm::bfd
