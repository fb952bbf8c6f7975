#include "speaker/peer_session.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cstring>
#include <utility>

#include "community/value.h"
#include "speaker/bgp_decoder.h"

namespace bgpcomm::speaker {
namespace {

IpAddress FromAsio(const asio::ip::address& a) {
  if (a.is_v4()) {
    auto b = a.to_v4().to_bytes();
    return IpAddress::V4(b[0], b[1], b[2], b[3]);
  }
  auto b = a.to_v6().to_bytes();
  std::array<std::uint8_t, 16> bytes;
  std::copy(b.begin(), b.end(), bytes.begin());
  return IpAddress::V6(bytes);
}

// A global IPv6 address on the interface that holds `v4`: the next hop of IPv6 routes
// carried over an IPv4 session (dualStackAddressFamily).
std::optional<asio::ip::address> Ipv6BesideIpv4(const asio::ip::address_v4& v4) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::string interface_name;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    auto* sin = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
    if (ntohl(sin->sin_addr.s_addr) == v4.to_uint()) interface_name = i->ifa_name;
  }
  std::optional<asio::ip::address> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || interface_name != i->ifa_name) {
      continue;
    }
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
    asio::ip::address_v6 a(bytes);
    if (!a.is_link_local()) found = a;
  }
  freeifaddrs(list);
  return found;
}

// The link-local address of the interface that holds `local`, when `peer` is on one of its
// connected prefixes (a directly connected IPv6 peer, RFC 2545 §3).
std::optional<asio::ip::address> LinkLocalOnLinkTo(const asio::ip::address_v6& local,
                                                   const asio::ip::address& peer) {
  if (!peer.is_v6()) return std::nullopt;
  auto peer_bytes = peer.to_v6().to_bytes();
  auto local_bytes = local.to_bytes();
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::string interface_name;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET6) continue;
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
    if (std::memcmp(&sin6->sin6_addr, local_bytes.data(), 16) != 0) continue;
    const auto* mask = reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask);
    bool same_prefix = true;
    for (int b = 0; b < 16; ++b) {
      std::uint8_t m = mask->sin6_addr.s6_addr[b];
      if ((local_bytes[b] & m) != (peer_bytes[b] & m)) same_prefix = false;
    }
    if (same_prefix) interface_name = i->ifa_name;
  }
  std::optional<asio::ip::address> found;
  for (ifaddrs* i = list; i && !found && !interface_name.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || interface_name != i->ifa_name) {
      continue;
    }
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
    asio::ip::address_v6::bytes_type bytes;
    std::memcpy(bytes.data(), &sin6->sin6_addr, 16);
    asio::ip::address_v6 a(bytes);
    if (a.is_link_local()) found = a;
  }
  freeifaddrs(list);
  return found;
}

// RFC 2385: sign every segment to and from `peer` with `password`.
std::error_code SetMd5(int fd, const asio::ip::address& peer, const std::string& password) {
  tcp_md5sig sig{};
  if (password.size() > TCP_MD5SIG_MAXKEYLEN)
    return std::make_error_code(std::errc::invalid_argument);
  if (peer.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(peer.to_v4().to_uint());
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sin6->sin6_family = AF_INET6;
    auto bytes = peer.to_v6().to_bytes();
    std::memcpy(&sin6->sin6_addr, bytes.data(), 16);
  }
  sig.tcpm_keylen = static_cast<std::uint16_t>(password.size());
  std::memcpy(sig.tcpm_key, password.data(), password.size());
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) != 0) {
    return std::error_code(errno, std::system_category());
  }
  return {};
}

}  // namespace

struct PeerSession::Connection {
  Connection(asio::io_context& io, std::size_t max_bytes)
      : socket(io), linger(io), stall_timer(io), queue(max_bytes) {}
  asio::ip::tcp::socket socket;
  asio::steady_timer linger;       // bounds the delivery of the last NOTIFICATION
  asio::steady_timer stall_timer;  // notices a peer that stopped reading
  SendQueue queue;
  std::array<std::uint8_t, 8192> read_buffer{};
  bool writing = false;
  bool stall_armed = false;
  bool blocked = false;  // SendBlocked reported: nothing more is queued
  bool closing = false;  // no longer the session's: flush, then close
  FsmClock::time_point last_progress{};
};

PeerSession::PeerSession(asio::io_context& io, PeerEndpoint endpoint, SessionConfig config,
                         SessionObserver observer, SendLimits limits)
    : io_(io),
      endpoint_(std::move(endpoint)),
      fsm_(std::move(config)),
      observer_(std::move(observer)),
      limits_(limits),
      timers_{asio::steady_timer(io), asio::steady_timer(io), asio::steady_timer(io)} {}

void PeerSession::Start() { Dispatch(event::ManualStart{}); }

void PeerSession::Stop(bool for_restart) {
  Dispatch(event::ManualStop{.for_restart = for_restart});
}

void PeerSession::BfdDown(std::string diagnostic) {
  Dispatch(event::BfdDown{std::move(diagnostic)});
}

std::size_t PeerSession::queued_bytes() const { return conn_ ? conn_->queue.bytes() : 0; }

void PeerSession::SetRoutes(RouteSet routes) {
  routes_ = std::move(routes);
  if (fsm_.state() == SessionState::kEstablished) SendRib(rib_.Update(routes_));
}

void PeerSession::ChangeRoutes(const std::vector<RouteChange>& changes) {
  if (changes.empty()) return;
  routes_.Apply(changes);
  if (fsm_.state() == SessionState::kEstablished) SendRib(rib_.Change(changes));
}

void PeerSession::Dispatch(const Event& ev) {
  SessionState before = fsm_.state();
  std::vector<Action> actions = fsm_.Handle(ev, FsmClock::now());
  SessionState after = fsm_.state();
  if (before != after) {
    spdlog::info("event=session_state peer={} from={} to={}", Name(), StateName(before),
                 StateName(after));
    if (observer_.state_changed) observer_.state_changed(endpoint_.name, before, after);
  }
  for (const Action& a : actions) Execute(a);
}

void PeerSession::Execute(const Action& a) {
  if (std::holds_alternative<action::Connect>(a)) {
    Connect();
  } else if (const auto* close = std::get_if<action::Close>(&a)) {
    if (conn_) {
      spdlog::info("event=close peer={} reason={}", Name(), community::Quote(close->reason));
      if (observer_.error) observer_.error(endpoint_.name, close->reason);
    }
    CloseConnection();
  } else if (const auto* send = std::get_if<action::Send>(&a)) {
    if (const auto* n = std::get_if<NotificationMessage>(&send->message)) {
      spdlog::warn("event=notification_sent peer={} code={} subcode={}", Name(), n->code,
                   n->subcode);
    }
    auto bytes = Encode(send->message, fsm_.codec());
    if (bytes && std::holds_alternative<NotificationMessage>(send->message)) {
      // A NOTIFICATION is always followed by Close, which lets it drain (lingering).
      SendFinal(std::move(*bytes));
    } else if (bytes) {
      SendBytes(std::move(*bytes));
    } else {
      spdlog::error("event=encode_failed peer={} error={}", Name(),
                    community::Quote(bytes.error().message));
    }
  } else if (const auto* arm = std::get_if<action::ArmTimer>(&a)) {
    ArmTimer(arm->timer, arm->deadline);
  } else if (const auto* disarm = std::get_if<action::DisarmTimer>(&a)) {
    DisarmTimer(disarm->timer);
  } else if (const auto* up = std::get_if<action::SessionUp>(&a)) {
    spdlog::info(
        "event=established peer={} hold={}s four_octet_as={} families={} graceful_restart={}",
        Name(), up->negotiated.hold_time_seconds, up->negotiated.four_octet_as,
        up->negotiated.families.size(), up->negotiated.graceful_restart);
    SendRib(rib_.Start(Outbound(up->negotiated), routes_));
  } else if (const auto* down = std::get_if<action::SessionDown>(&a)) {
    spdlog::info("event=session_down peer={} reason={}", Name(), community::Quote(down->reason));
    rib_.Stop();
    if (observer_.prefixes_announced)
      observer_.prefixes_announced(endpoint_.name, rib_.sent(), nullptr);
  } else if (std::holds_alternative<action::ResendTable>(a)) {
    rib_.Stop();
    SendRib(rib_.Start(Outbound(*fsm_.negotiated()), routes_));
  } else if (const auto* unanswered = std::get_if<action::ConnectUnanswered>(&a)) {
    // A peer that drops every SYN: most often a TCP MD5 password that differs (RFC 2385
    // segments with a wrong or missing signature are dropped silently), else a filter.
    spdlog::warn(
        "event=connect_unanswered peer={} address={} port={} attempts={} md5={} hint={}", Name(),
        endpoint_.address.to_string(), endpoint_.port, unanswered->consecutive,
        endpoint_.password.empty() ? "off" : "on",
        community::Quote("no answer to the TCP SYN: check that the peer requires the same TCP "
                         "MD5 password (password/passwordSecret) and that nothing filters port " +
                         std::to_string(endpoint_.port)));
    if (observer_.connect_unanswered) observer_.connect_unanswered(endpoint_.name);
  } else if (const auto* note = std::get_if<action::Note>(&a)) {
    spdlog::info("event=note peer={} message={}", Name(), community::Quote(note->message));
  }
}

OutboundSession PeerSession::Outbound(const Negotiated& n) const {
  OutboundSession s;
  s.local_asn = fsm_.config().local_asn;
  s.ibgp = fsm_.config().local_asn == n.peer_asn;
  s.families = n.families;
  s.codec = n.codec();
  std::error_code ec;
  asio::ip::tcp::endpoint local;
  if (conn_) local = conn_->socket.local_endpoint(ec);
  if (conn_ && !ec) {
    asio::ip::address a = local.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    if (a.is_v4()) {
      s.next_hops.ipv4 = FromAsio(a);
      if (auto v6 = Ipv6BesideIpv4(a.to_v4())) s.next_hops.ipv6 = FromAsio(*v6);
    } else {
      s.next_hops.ipv6 = FromAsio(a);
      // RFC 2545 §3: on a link shared with the peer, the link-local address goes beside the
      // global one. A multihop peer is not on our link, nor is a link-local session's.
      if (!endpoint_.ttl && !a.to_v6().is_link_local()) {
        if (auto ll = LinkLocalOnLinkTo(a.to_v6(), endpoint_.address)) {
          s.next_hops.ipv6_link_local = FromAsio(*ll);
        }
      }
    }
  }
  return s;
}

void PeerSession::SendRib(const RibOutput& out) {
  for (const std::string& e : out.errors) {
    spdlog::error("event=routes_not_encodable peer={} error={}", Name(), community::Quote(e));
  }
  if (out.announced || out.withdrawn) {
    spdlog::info("event=updates_sent peer={} announced={} withdrawn={} messages={}", Name(),
                 out.announced, out.withdrawn, out.messages.size());
  }
  for (const Bytes& m : out.messages) SendBytes(m);
  if (observer_.updates_sent && !out.messages.empty()) {
    observer_.updates_sent(endpoint_.name, out.messages.size());
  }
  if (observer_.prefixes_announced) {
    observer_.prefixes_announced(endpoint_.name, rib_.sent(),
                                 out.membership ? &*out.membership : nullptr);
  }
}

void PeerSession::Connect() {
  CloseConnection();
  auto conn = std::make_shared<Connection>(io_, limits_.max_queued_bytes);
  conn_ = conn;
  asio::ip::tcp::endpoint remote(endpoint_.address, endpoint_.port);
  std::error_code ec;
  conn->socket.open(remote.protocol(), ec);
  if (!ec && !endpoint_.password.empty())
    ec = SetMd5(conn->socket.native_handle(), endpoint_.address, endpoint_.password);
  if (!ec && endpoint_.source)
    conn->socket.bind(asio::ip::tcp::endpoint(*endpoint_.source, 0), ec);
  if (!ec && endpoint_.ttl) {
    int ttl = *endpoint_.ttl;
    int level = remote.address().is_v4() ? IPPROTO_IP : IPPROTO_IPV6;
    int name = remote.address().is_v4() ? IP_TTL : IPV6_UNICAST_HOPS;
    if (setsockopt(conn->socket.native_handle(), level, name, &ttl, sizeof(ttl)) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  if (ec) {
    spdlog::warn("event=connect_failed peer={} error={}", Name(), community::Quote(ec.message()));
    if (observer_.error) observer_.error(endpoint_.name, "connect: " + ec.message());
    asio::post(io_, [self = shared_from_this(), conn] {
      if (conn == self->conn_) self->Dispatch(event::TcpFails{});
    });
    return;
  }
  conn->socket.async_connect(remote, [self = shared_from_this(), conn](std::error_code error) {
    if (conn != self->conn_) return;
    if (error) {
      spdlog::info("event=connect_failed peer={} error={}", self->Name(),
                   community::Quote(error.message()));
      if (self->observer_.error) self->observer_.error(self->endpoint_.name, "connect: " + error.message());
      self->Dispatch(event::TcpFails{});
      return;
    }
    std::error_code ignored;
    conn->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    conn->last_progress = FsmClock::now();
    self->Dispatch(event::TcpConnected{});
    if (conn == self->conn_) self->ReadMore();
  });
}

void PeerSession::CloseConnection() {
  input_.clear();
  if (!conn_) return;
  std::shared_ptr<Connection> conn = std::move(conn_);
  conn_.reset();
  std::error_code ignored;
  conn->stall_timer.cancel();
  if (conn->queue.empty() || !conn->socket.is_open()) {
    conn->socket.close(ignored);
    return;
  }
  // Something is still queued (the NOTIFICATION of a reset): let it drain for a moment,
  // off the session; a peer that does not read gets the socket closed under it.
  conn->closing = true;
  conn->linger.expires_after(limits_.notification_linger);
  conn->linger.async_wait([conn](std::error_code ec) {
    if (ec) return;
    std::error_code ignored;
    conn->socket.close(ignored);
  });
  Flush(conn);
}

void PeerSession::ArmTimer(Timer timer, TimePoint deadline) {
  auto i = static_cast<std::size_t>(timer);
  std::uint64_t generation = ++timer_generation_[i];
  timers_[i].expires_at(deadline);
  timers_[i].async_wait([self = shared_from_this(), timer, i, generation](std::error_code ec) {
    if (ec || generation != self->timer_generation_[i]) return;
    self->Dispatch(event::TimerExpired{timer});
  });
}

void PeerSession::DisarmTimer(Timer timer) {
  auto i = static_cast<std::size_t>(timer);
  ++timer_generation_[i];
  timers_[i].cancel();
}

void PeerSession::ReadMore() {
  std::shared_ptr<Connection> conn = conn_;
  conn->socket.async_read_some(asio::buffer(conn->read_buffer), [self = shared_from_this(), conn](
                                                               std::error_code ec, std::size_t n) {
    if (conn != self->conn_) return;
    if (ec) {
      spdlog::info("event=connection_lost peer={} error={}", self->Name(),
                   community::Quote(ec.message()));
      if (self->observer_.error) self->observer_.error(self->endpoint_.name, "connection lost: " + ec.message());
      self->Dispatch(event::TcpFails{});
      return;
    }
    self->input_.insert(self->input_.end(), conn->read_buffer.begin(),
                        conn->read_buffer.begin() + n);
    self->ProcessInput();
    if (conn == self->conn_) self->ReadMore();
  });
}

void PeerSession::ProcessInput() {
  std::shared_ptr<Connection> conn = conn_;
  std::size_t offset = 0;
  while (conn == conn_) {
    std::span<const std::uint8_t> rest(input_.data() + offset, input_.size() - offset);
    auto length = FrameLength(rest);
    if (!length) {
      spdlog::warn("event=malformed_message peer={} error={}", Name(),
                   community::Quote(length.error().message));
      Dispatch(event::Malformed{length.error()});
      return;
    }
    if (!*length || **length > rest.size()) break;
    auto decoded = Decode(rest.first(**length), fsm_.codec());
    offset += **length;
    if (decoded) {
      Dispatch(event::Received{std::move(*decoded)});
    } else {
      spdlog::warn("event=malformed_message peer={} error={}", Name(),
                   community::Quote(decoded.error().message));
      Dispatch(event::Malformed{decoded.error()});
    }
  }
  if (conn == conn_) input_.erase(input_.begin(), input_.begin() + offset);
}

void PeerSession::SendBytes(Bytes bytes) {
  if (!conn_ || !conn_->socket.is_open() || conn_->blocked) return;
  if (!conn_->queue.Push(std::move(bytes))) {
    Blocked(conn_, std::to_string(conn_->queue.bytes()) + " bytes queued, limit " +
                       std::to_string(conn_->queue.max_bytes()));
    return;
  }
  Flush(conn_);
}

void PeerSession::SendFinal(Bytes bytes) {
  if (!conn_ || !conn_->socket.is_open()) return;
  conn_->queue.DropUnstarted();
  conn_->queue.PushUnbounded(std::move(bytes));
  conn_->blocked = true;  // nothing after the NOTIFICATION
  Flush(conn_);
}

void PeerSession::Blocked(const std::shared_ptr<Connection>& conn, std::string reason) {
  if (conn->blocked) return;
  conn->blocked = true;
  spdlog::warn("event=peer_not_reading peer={} reason={}", Name(), community::Quote(reason));
  // Not dispatched from here: this may run inside the actions of another event.
  asio::post(io_, [self = shared_from_this(), conn, reason = std::move(reason)]() mutable {
    if (conn != self->conn_) return;
    self->Dispatch(event::SendBlocked{std::move(reason)});
  });
}

void PeerSession::Flush(const std::shared_ptr<Connection>& conn) {
  if (conn->writing || !conn->socket.is_open()) return;
  if (conn->queue.empty()) {
    if (conn->closing) {
      std::error_code ignored;
      conn->socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      conn->socket.close(ignored);
      conn->linger.cancel();
    }
    return;
  }
  conn->writing = true;
  if (!conn->closing) WatchStall(conn);
  std::span<const std::uint8_t> next = conn->queue.BeginWrite();
  conn->socket.async_write_some(
      asio::buffer(next.data(), next.size()),
      [self = shared_from_this(), conn](std::error_code ec, std::size_t n) {
        conn->writing = false;
        conn->queue.EndWrite(ec ? 0 : n);
        if (ec) {
          std::error_code ignored;
          if (conn == self->conn_) {
            self->Dispatch(event::TcpFails{});
          } else {
            conn->socket.close(ignored);
            conn->linger.cancel();
          }
          return;
        }
        conn->last_progress = FsmClock::now();
        self->Flush(conn);
      });
}

void PeerSession::WatchStall(const std::shared_ptr<Connection>& conn) {
  if (conn->stall_armed) return;
  Duration stall = limits_.stall;
  if (const auto& n = fsm_.negotiated(); n && n->hold_time_seconds != 0) {
    stall = std::chrono::seconds(n->hold_time_seconds);
  }
  conn->stall_armed = true;
  conn->stall_timer.expires_at(conn->last_progress + stall);
  conn->stall_timer.async_wait([self = shared_from_this(), conn, stall](std::error_code ec) {
    conn->stall_armed = false;
    if (ec || conn != self->conn_ || conn->queue.empty()) return;
    if (FsmClock::now() - conn->last_progress >= stall) {
      self->Blocked(conn, "no byte written for " +
                              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 stall)
                                                 .count()) +
                              " ms");
    } else {
      self->WatchStall(conn);
    }
  });
}

}  // namespace bgpcomm::speaker
