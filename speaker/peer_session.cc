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

PeerSession::PeerSession(asio::io_context& io, PeerEndpoint endpoint, SessionConfig config,
                         SessionObserver observer)
    : io_(io),
      endpoint_(std::move(endpoint)),
      fsm_(std::move(config)),
      observer_(std::move(observer)),
      socket_(io),
      timers_{asio::steady_timer(io), asio::steady_timer(io), asio::steady_timer(io)} {}

void PeerSession::Start() { Dispatch(event::ManualStart{}); }

void PeerSession::Stop() { Dispatch(event::ManualStop{}); }

void PeerSession::SetRoutes(RouteSet routes) {
  routes_ = std::move(routes);
  if (fsm_.state() == SessionState::kEstablished) SendRib(rib_.Update(routes_));
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
    if (socket_.is_open())
      spdlog::info("event=close peer={} reason={}", Name(), community::Quote(close->reason));
    CloseSocket();
  } else if (const auto* send = std::get_if<action::Send>(&a)) {
    if (const auto* n = std::get_if<NotificationMessage>(&send->message)) {
      spdlog::warn("event=notification_sent peer={} code={} subcode={}", Name(), n->code,
                   n->subcode);
    }
    auto bytes = Encode(send->message, fsm_.codec());
    if (bytes && std::holds_alternative<NotificationMessage>(send->message)) {
      // A NOTIFICATION is always followed by Close: write it now, best effort.
      std::error_code ignored;
      if (socket_.is_open()) asio::write(socket_, asio::buffer(*bytes), ignored);
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
    spdlog::info("event=established peer={} hold={}s four_octet_as={} families={}", Name(),
                 up->negotiated.hold_time_seconds, up->negotiated.four_octet_as,
                 up->negotiated.families.size());
    SendRib(rib_.Start(Outbound(up->negotiated), routes_));
  } else if (const auto* down = std::get_if<action::SessionDown>(&a)) {
    spdlog::info("event=session_down peer={} reason={}", Name(), community::Quote(down->reason));
    rib_.Stop();
    if (observer_.prefixes_announced) observer_.prefixes_announced(endpoint_.name, 0);
  } else if (std::holds_alternative<action::ResendTable>(a)) {
    rib_.Stop();
    SendRib(rib_.Start(Outbound(*fsm_.negotiated()), routes_));
  } else if (const auto* note = std::get_if<action::Note>(&a)) {
    spdlog::info("event=note peer={} message={}", Name(), community::Quote(note->message));
  }
}

OutboundSession PeerSession::Outbound(const Negotiated& n) const {
  OutboundSession s;
  s.local_asn = fsm_.config().local_asn;
  s.ibgp = fsm_.config().local_asn == fsm_.config().peer_asn;
  s.families = n.families;
  s.codec = n.codec();
  std::error_code ec;
  asio::ip::tcp::endpoint local = socket_.local_endpoint(ec);
  if (!ec) {
    asio::ip::address a = local.address();
    if (a.is_v6() && a.to_v6().is_v4_mapped())
      a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    if (a.is_v4()) {
      s.next_hops.ipv4 = FromAsio(a);
      if (auto v6 = Ipv6BesideIpv4(a.to_v4())) s.next_hops.ipv6 = FromAsio(*v6);
    } else {
      s.next_hops.ipv6 = FromAsio(a);
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
  if (observer_.prefixes_announced)
    observer_.prefixes_announced(endpoint_.name, rib_.sent().size());
}

void PeerSession::Connect() {
  CloseSocket();
  std::uint64_t connection = connection_;
  asio::ip::tcp::endpoint remote(endpoint_.address, endpoint_.port);
  std::error_code ec;
  socket_.open(remote.protocol(), ec);
  if (!ec && !endpoint_.password.empty())
    ec = SetMd5(socket_.native_handle(), endpoint_.address, endpoint_.password);
  if (!ec && endpoint_.source) socket_.bind(asio::ip::tcp::endpoint(*endpoint_.source, 0), ec);
  if (!ec && endpoint_.ttl) {
    int ttl = *endpoint_.ttl;
    int level = remote.address().is_v4() ? IPPROTO_IP : IPPROTO_IPV6;
    int name = remote.address().is_v4() ? IP_TTL : IPV6_UNICAST_HOPS;
    if (setsockopt(socket_.native_handle(), level, name, &ttl, sizeof(ttl)) != 0) {
      ec = std::error_code(errno, std::system_category());
    }
  }
  if (ec) {
    spdlog::warn("event=connect_failed peer={} error={}", Name(), community::Quote(ec.message()));
    asio::post(io_, [self = shared_from_this(), connection] {
      if (connection == self->connection_) self->Dispatch(event::TcpFails{});
    });
    return;
  }
  socket_.async_connect(remote, [self = shared_from_this(), connection](std::error_code error) {
    if (connection != self->connection_) return;
    if (error) {
      spdlog::info("event=connect_failed peer={} error={}", self->Name(),
                   community::Quote(error.message()));
      self->Dispatch(event::TcpFails{});
      return;
    }
    std::error_code ignored;
    self->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    self->Dispatch(event::TcpConnected{});
    if (connection == self->connection_) self->ReadMore();
  });
}

void PeerSession::CloseSocket() {
  ++connection_;
  std::error_code ignored;
  socket_.close(ignored);
  input_.clear();
  output_.clear();
  writing_ = false;
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
  std::uint64_t connection = connection_;
  socket_.async_read_some(asio::buffer(read_buffer_), [self = shared_from_this(), connection](
                                                          std::error_code ec, std::size_t n) {
    if (connection != self->connection_) return;
    if (ec) {
      spdlog::info("event=connection_lost peer={} error={}", self->Name(),
                   community::Quote(ec.message()));
      self->Dispatch(event::TcpFails{});
      return;
    }
    self->input_.insert(self->input_.end(), self->read_buffer_.begin(),
                        self->read_buffer_.begin() + n);
    self->ProcessInput();
    if (connection == self->connection_) self->ReadMore();
  });
}

void PeerSession::ProcessInput() {
  std::uint64_t connection = connection_;
  std::size_t offset = 0;
  while (connection == connection_) {
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
  if (connection == connection_) input_.erase(input_.begin(), input_.begin() + offset);
}

void PeerSession::SendBytes(Bytes bytes) {
  if (!socket_.is_open()) return;
  output_.push_back(std::move(bytes));
  if (!writing_) WriteNext();
}

void PeerSession::WriteNext() {
  if (output_.empty()) {
    writing_ = false;
    return;
  }
  writing_ = true;
  std::uint64_t connection = connection_;
  asio::async_write(socket_, asio::buffer(output_.front()),
                    [self = shared_from_this(), connection](std::error_code ec, std::size_t) {
                      if (connection != self->connection_) return;
                      if (ec) {
                        self->Dispatch(event::TcpFails{});
                        return;
                      }
                      self->output_.pop_front();
                      self->WriteNext();
                    });
}

}  // namespace bgpcomm::speaker
