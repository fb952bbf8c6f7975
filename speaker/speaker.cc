#include "speaker/speaker.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <charconv>
#include <functional>
#include <set>

#include "community/duration.h"
#include "community/value.h"
#include "manifest/loader.h"
#include "speaker/bfd_peers.h"

namespace bgpcomm::speaker {

std::expected<PeerPlan, std::string> PlanPeer(const community::Peer& peer,
                                              std::uint32_t fallback_router_id,
                                              std::uint16_t restart_time_seconds) {
  PeerPlan plan;
  auto fail = [&](std::string m) {
    return std::unexpected("BGPPeer " + peer.meta.name + ": " + m);
  };
  // What MetalLB's FRR mode does and this speaker cannot: refused, naming the field.
  if (!peer.vrf.empty()) {
    return fail("spec.vrf " + community::Quote(peer.vrf) +
                " is not supported: this speaker peers from the default VRF only");
  }
  if (!peer.interface.empty()) {
    return fail("spec.interface " + community::Quote(peer.interface) +
                " is not supported: this speaker cannot peer unnumbered; set spec.peerAddress");
  }
  if (!peer.my_asn || *peer.my_asn <= 0 || *peer.my_asn > 0xffffffffLL) {
    return fail("spec.myASN must be between 1 and 4294967295");
  }
  plan.config.local_asn = Asn(static_cast<std::uint32_t>(*peer.my_asn));
  if (peer.peer_asn) {
    if (*peer.peer_asn <= 0 || *peer.peer_asn > 0xffffffffLL) {
      return fail("spec.peerASN must be between 1 and 4294967295");
    }
    plan.config.peer_asn = Asn(static_cast<std::uint32_t>(*peer.peer_asn));
  } else if (peer.dynamic_asn == "internal") {
    plan.config.peer_asn_mode = PeerAsnMode::kInternal;
    plan.config.peer_asn = plan.config.local_asn;
  } else if (peer.dynamic_asn == "external") {
    // The peer's AS is read from its OPEN: any AS but ours (MetalLB's `remote-as external`).
    plan.config.peer_asn_mode = PeerAsnMode::kExternal;
  } else {
    return fail("spec.peerASN or spec.dynamicASN (internal or external) is required");
  }
  // localASN: the session speaks as that ASN (MetalLB's "local-as ASN no-prepend
  // replace-as"): OPEN's My AS and the AS path carry it instead of myASN.
  if (peer.local_asn) {
    if (*peer.local_asn <= 0 || *peer.local_asn > 0xffffffffLL) {
      return fail("spec.localASN must be between 1 and 4294967295");
    }
    plan.config.local_asn = Asn(static_cast<std::uint32_t>(*peer.local_asn));
  }
  std::error_code ec;
  plan.endpoint.name = peer.meta.name;
  plan.endpoint.address = asio::ip::make_address(peer.peer_address, ec);
  if (ec) return fail("spec.peerAddress is not an IP address");
  std::int64_t port = peer.peer_port.value_or(179);
  if (port <= 0 || port > 65535) return fail("spec.peerPort must be between 1 and 65535");
  plan.endpoint.port = static_cast<std::uint16_t>(port);
  if (!peer.source_address.empty()) {
    plan.endpoint.source = asio::ip::make_address(peer.source_address, ec);
    if (ec) return fail("spec.sourceAddress is not an IP address");
  }
  if (peer.ebgp_multihop) plan.endpoint.ttl = 255;
  plan.endpoint.password = peer.password;
  plan.config.router_id = fallback_router_id;
  if (plan.endpoint.source && plan.endpoint.source->is_v4()) {
    plan.config.router_id = plan.endpoint.source->to_v4().to_uint();
  }
  if (!peer.router_id.empty()) {
    auto id = asio::ip::make_address_v4(peer.router_id, ec);
    if (ec) return fail("spec.routerID is not an IPv4 address");
    plan.config.router_id = id.to_uint();
  }
  if (plan.config.router_id == 0) return fail("no router ID: set spec.routerID");
  if (peer.hold_time) {
    // Whole seconds, truncated as MetalLB truncates them.
    auto hold = community::ParseGoDuration(*peer.hold_time);
    auto seconds = hold ? std::chrono::duration_cast<std::chrono::seconds>(*hold)
                        : std::chrono::seconds(-1);
    if (!hold || seconds < std::chrono::seconds(0) ||
        (seconds > std::chrono::seconds(0) && seconds < std::chrono::seconds(3)) ||
        seconds > std::chrono::seconds(65535)) {
      return fail("spec.holdTime must be 0 or between 3s and 65535s");
    }
    plan.config.hold_time_seconds = static_cast<std::uint16_t>(seconds.count());
  }
  plan.config.graceful_restart.enabled = peer.enable_graceful_restart;
  plan.config.graceful_restart.restart_time_seconds = restart_time_seconds;
  if (peer.connect_time) {
    auto connect = community::ParseGoDuration(*peer.connect_time);
    auto seconds = connect ? std::chrono::duration_cast<std::chrono::seconds>(*connect)
                           : std::chrono::seconds(-1);
    if (!connect || seconds < std::chrono::seconds(1) || seconds > std::chrono::seconds(65535)) {
      return fail("spec.connectTime must be between 1s and 65535s");
    }
    plan.config.connect_retry_max = seconds;
    plan.config.connect_retry_initial = std::min<Duration>(plan.config.connect_retry_initial, seconds);
  }
  // disableMP (deprecated): each session carries only its own family, whatever
  // dualStackAddressFamily says; IPv4 on an IPv4 session uses the classic NLRI fields.
  if (peer.dual_stack_address_family && !peer.disable_mp) {
    plan.config.families = {kIpv4Unicast, kIpv6Unicast};
  } else {
    plan.config.families = {plan.endpoint.address.is_v4() ? kIpv4Unicast : kIpv6Unicast};
  }
  return plan;
}

std::string RefusedPeerField(const std::string& error) {
  // "BGPPeer NAME: spec.FIELD ..."
  std::size_t at = error.find(": spec.");
  if (at == std::string::npos) return "other";
  std::size_t start = at + 2;
  std::size_t end = error.find_first_of(" ", start);
  return error.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

SpeakerMetrics::SpeakerMetrics(prometheus::Registry* registry) : registry_(registry) {
  if (!registry) return;
  sessions_ = &prometheus::BuildGauge()
                   .Name("bgpcomm_speaker_sessions")
                   .Help("BGP sessions by FSM state")
                   .Register(*registry);
  session_up_ = &prometheus::BuildGauge()
                     .Name("bgpcomm_speaker_session_up")
                     .Help("1 while the BGP session to the peer is Established, else 0")
                     .Register(*registry);
  prefixes_ = &prometheus::BuildGauge()
                   .Name("bgpcomm_speaker_prefixes_announced")
                   .Help("Prefixes announced to each peer")
                   .Register(*registry);
  updates_ = &prometheus::BuildCounter()
                  .Name("bgpcomm_speaker_updates_sent_total")
                  .Help("UPDATE messages sent to each peer")
                  .Register(*registry);
  unanswered_ = &prometheus::BuildCounter()
                     .Name("bgpcomm_speaker_connect_unanswered_total")
                     .Help("Connection attempts that got no answer within the ConnectRetry "
                           "time (check the TCP MD5 password), by peer")
                     .Register(*registry);
  refused_ = &prometheus::BuildGauge()
                  .Name("bgpcomm_speaker_advertisements_refused")
                  .Help("BGPAdvertisements announcing nothing, by reason")
                  .Register(*registry);
  for (auto state :
       {SessionState::kIdle, SessionState::kConnect, SessionState::kActive, SessionState::kOpenSent,
        SessionState::kOpenConfirm, SessionState::kEstablished}) {
    sessions_->Add({{"state", std::string(StateName(state))}}).Set(0);
  }
  for (const char* kind : {"missing", "unreadable", "stale", "unresolved", "invalid"}) {
    refused_->Add({{"reason", kind}}).Set(0);
  }
  refused_peers_ = &prometheus::BuildGauge()
                        .Name("bgpcomm_speaker_peers_refused")
                        .Help("BGPPeers of this node that get no session, by the field refused")
                        .Register(*registry);
  for (const char* field : {"spec.vrf", "spec.interface"}) {
    refused_peers_->Add({{"field", field}}).Set(0);
  }
}

void SpeakerMetrics::SetRefusedPeers(const std::vector<std::string>& errors) {
  if (!refused_peers_) return;
  std::map<std::string, int> counts{{"spec.vrf", 0}, {"spec.interface", 0}};
  for (const auto& error : errors) ++counts[RefusedPeerField(error)];
  for (const auto& [field, n] : counts) refused_peers_->Add({{"field", field}}).Set(n);
}

void SpeakerMetrics::SetSessions(const std::map<SessionState, int>& by_state) {
  if (!sessions_) return;
  for (auto state :
       {SessionState::kIdle, SessionState::kConnect, SessionState::kActive, SessionState::kOpenSent,
        SessionState::kOpenConfirm, SessionState::kEstablished}) {
    auto it = by_state.find(state);
    sessions_->Add({{"state", std::string(StateName(state))}})
        .Set(it == by_state.end() ? 0 : it->second);
  }
}

void SpeakerMetrics::SetSessionUp(const std::map<std::string, SessionState>& by_peer) {
  if (!session_up_) return;
  for (auto it = session_up_peers_.begin(); it != session_up_peers_.end();) {
    if (by_peer.contains(*it)) {
      ++it;
      continue;
    }
    session_up_->Remove(&session_up_->Add({{"peer", *it}}));
    it = session_up_peers_.erase(it);
  }
  for (const auto& [peer, state] : by_peer) {
    session_up_->Add({{"peer", peer}}).Set(state == SessionState::kEstablished ? 1 : 0);
    session_up_peers_.insert(peer);
  }
}

void SpeakerMetrics::SetPrefixes(const std::string& peer, std::size_t prefixes) {
  if (prefixes_) prefixes_->Add({{"peer", peer}}).Set(static_cast<double>(prefixes));
}

void SpeakerMetrics::AddUpdates(const std::string& peer, std::size_t updates) {
  if (updates_) updates_->Add({{"peer", peer}}).Increment(static_cast<double>(updates));
}

void SpeakerMetrics::AddUnanswered(const std::string& peer) {
  if (unanswered_) unanswered_->Add({{"peer", peer}}).Increment();
}

void SpeakerMetrics::SetRefused(const std::vector<RefusedAdvertisement>& refused) {
  if (!refused_) return;
  std::map<std::string, int> counts{
      {"missing", 0}, {"unreadable", 0}, {"stale", 0}, {"unresolved", 0}, {"invalid", 0}};
  for (const auto& r : refused) ++counts[std::string(community::RefusalKindName(r.kind))];
  for (const auto& [kind, n] : counts) refused_->Add({{"reason", kind}}).Set(n);
}

namespace {

// The first IPv4 address of an interface that is up and not loopback: the default router ID.
std::uint32_t HostRouterId() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return 0;
  std::uint32_t id = 0;
  for (ifaddrs* i = list; i && id == 0; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    std::uint32_t a = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    if ((a >> 24) != 127) id = a;
  }
  freeifaddrs(list);
  return id;
}

}  // namespace

Speaker::Speaker(asio::io_context& io, SpeakerOptions options, SpeakerMetrics& metrics)
    : io_(io), options_(std::move(options)), metrics_(metrics), poll_timer_(io) {
  // A BFD session leaving Up drops its peer's BGP session at once.
  bfd_ = std::make_unique<BfdPeers>(
      io_, metrics_.registry(), [this](const std::string& peer, const std::string& diagnostic) {
        if (auto it = sessions_.find(peer); it != sessions_.end()) it->second->BfdDown(diagnostic);
      },
      options_.bfd);
  // Its state shows in the peer's BGPSessionState (bfdStatus).
  bfd_->SetStateHandler([this](const std::string& peer, bfd::State to) {
    if (status_) status_->BfdChanged(peer, BfdStatus(to));
  });
}

Speaker::~Speaker() = default;

std::expected<void, std::string> Speaker::Start() {
  if (options_.objects.empty()) return {};
  if (auto r = Reload(); !r) return r;
  ready_ = true;
  SchedulePoll();
  return {};
}

void Speaker::Stop(bool for_restart) {
  stopped_ = true;
  poll_timer_.cancel();
  for (auto& [name, session] : sessions_) session->Stop(for_restart);
  bfd_->Stop();
  UpdateSessionMetric();
}

bool Speaker::graceful_restart_enabled() const {
  for (const auto& [name, plan] : plans_) {
    if (plan.config.graceful_restart.enabled) return true;
  }
  return false;
}

std::string Speaker::Stamp() const {
  std::string stamp;
  for (const std::string& path : options_.objects) {
    auto files = manifest::ExpandPath(path);
    if (!files) {
      stamp += path + ":missing;";
      continue;
    }
    for (const manifest::InputFile& f : *files) {
      struct stat st {};
      if (stat(f.path.c_str(), &st) != 0) {
        stamp += f.display + ":gone;";
        continue;
      }
      stamp += f.display + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_size) + ":" +
               std::to_string(st.st_ino) + ";";
    }
  }
  return stamp;
}

void Speaker::SchedulePoll() {
  if (stopped_) return;
  poll_timer_.expires_after(options_.poll_interval);
  poll_timer_.async_wait([this](std::error_code ec) {
    if (ec || stopped_) return;
    if (Stamp() != stamp_) {
      spdlog::info("event=objects_changed");
      if (auto r = Reload(); !r) {
        spdlog::error("event=objects_unreadable error={} action=keeping_previous_routes",
                      community::Quote(r.error()));
      }
    }
    SchedulePoll();
  });
}

std::expected<void, std::string> Speaker::Reload() {
  stamp_ = Stamp();
  auto loaded = LoadObjects(options_.objects, options_.node_name);
  if (!loaded) return std::unexpected(loaded.error());
  Apply(loaded->objects, loaded->refused);
  return {};
}

std::vector<RefusedAdvertisement> Speaker::Apply(const SpeakerObjects& objects,
                                                 std::vector<RefusedAdvertisement> refused) {
  if (stopped_) return refused;  // shutting down: no session starts again
  DesiredRoutes desired = ComputeDesiredRoutes(objects);
  refused.insert(refused.end(), desired.refused.begin(), desired.refused.end());
  LogRefused(refused);
  std::size_t routes = 0;
  for (const auto& [peer, set] : desired.by_peer) routes += set.size();
  // Each session takes its route set (moved: at 100,000 routes a copy is megabytes).
  std::size_t peers = SyncSessions(
      objects.peers, objects.bfd_profiles,
      [&](const std::string& name) { return desired.by_peer.contains(name); },
      [&](const std::vector<std::string>& refused_peers) {
        if (!status_) return;
        status_->Applied(refused, refused_peers);
        if (status_->WantsServices()) {
          status_->ServicesAnnounced(AnnouncedServices(objects, desired), true);
        }
      },
      [&](PeerSession& session, const std::string& name, bool) {
        session.SetRoutes(std::move(desired.by_peer[name]));
      });
  spdlog::info("event=objects_applied peers={} routes={} refused={}", peers, routes,
               refused.size());
  return refused;
}

std::vector<RefusedAdvertisement> Speaker::ApplyIncremental(
    IncrementalRoutes& routes, const std::vector<community::BfdProfile>& bfd_profiles,
    bool full) {
  std::vector<RefusedAdvertisement> refused = routes.Refused();
  if (stopped_) return refused;
  LogRefused(refused);
  std::map<std::string, std::vector<RouteChange>> changes = routes.TakeChanges();
  std::size_t changed = 0;
  for (const auto& [peer, list] : changes) changed += list.size();
  std::size_t peers = SyncSessions(
      routes.peers(), bfd_profiles,
      [&](const std::string& name) { return routes.Selected(name); },
      [&](const std::vector<std::string>& refused_peers) {
        if (!status_) return;
        status_->Applied(refused, refused_peers);
        if (!status_->WantsServices()) return;
        // A rebuilt IncrementalRoutes gives every Service announced and from then on
        // tracks which Services a change can affect.
        if (full) {
          status_->ServicesAnnounced(routes.Announcements(), true);
        } else {
          status_->ServicesAnnounced(routes.TakeAnnouncementChanges(), false);
        }
      },
      [&](PeerSession& session, const std::string& name, bool added) {
        if (added || full) {
          session.SetRoutes(routes.RoutesOf(name));
        } else if (auto it = changes.find(name); it != changes.end()) {
          session.ChangeRoutes(it->second);
        }
      });
  spdlog::info("event=objects_applied peers={} changed_routes={} refused={} full={}", peers,
               changed, refused.size(), full);
  return refused;
}

void Speaker::LogRefused(const std::vector<RefusedAdvertisement>& refused) {
  for (const RefusedAdvertisement& r : refused) {
    spdlog::warn("event=advertisement_refused namespace={} name={} reason={}", r.namespace_name,
                 r.name, community::Quote(r.reason));
  }
  metrics_.SetRefused(refused);
}

std::size_t Speaker::SyncSessions(
    const std::vector<community::Peer>& peers,
    const std::vector<community::BfdProfile>& bfd_profiles,
    const std::function<bool(const std::string&)>& selected,
    const std::function<void(const std::vector<std::string>&)>& applied,
    const std::function<void(PeerSession&, const std::string&, bool)>& give_routes) {
  std::uint32_t host_id = HostRouterId();
  std::map<std::string, PeerPlan> plans;
  std::vector<std::string> refused_peers;
  std::vector<RefusedPeer> refused_peers_now;
  for (const community::Peer& peer : peers) {
    if (!selected(peer.meta.name)) continue;  // not for this node
    auto plan = PlanPeer(peer, host_id, options_.restart_time_seconds);
    if (!plan) {
      spdlog::error("event=peer_invalid peer={} field={} error={}", peer.meta.name,
                    RefusedPeerField(plan.error()), community::Quote(plan.error()));
      refused_peers.push_back(plan.error());
      refused_peers_now.push_back({peer.meta.name, plan.error()});
      continue;
    }
    plans.emplace(peer.meta.name, std::move(*plan));
  }
  metrics_.SetRefusedPeers(refused_peers);
  refused_peers_ = std::move(refused_peers_now);
  applied(refused_peers);
  // Sessions whose peer went away or changed are stopped (Cease); new ones start.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto plan = plans.find(it->first);
    if (plan == plans.end() || !(plan->second == plans_.at(it->first))) {
      spdlog::info("event=peer_removed peer={}", it->first);
      it->second->Stop();
      metrics_.SetPrefixes(it->first, 0);
      if (status_) status_->PeerRemoved(it->first);
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  plans_ = plans;
  for (auto& [name, plan] : plans) {
    auto& session = sessions_[name];
    if (!session) {
      SessionObserver observer;
      observer.state_changed = [this](const std::string& peer, SessionState, SessionState to) {
        UpdateSessionMetric();
        if (status_) status_->StateChanged(peer, to);
      };
      observer.updates_sent = [this](const std::string& peer, std::size_t n) {
        metrics_.AddUpdates(peer, n);
      };
      observer.prefixes_announced = [this](const std::string& peer, const RouteSet& sent,
                                           const RibOutput::Membership* membership) {
        metrics_.SetPrefixes(peer, sent.size());
        if (status_) status_->Sent(peer, sent, membership);
      };
      observer.connect_unanswered = [this](const std::string& peer) {
        metrics_.AddUnanswered(peer);
        if (status_) status_->ConnectUnanswered(peer);
      };
      observer.error = [this](const std::string& peer, const std::string& error) {
        if (status_) status_->Error(peer, error);
      };
      std::string peer_as = std::to_string(plan.config.peer_asn.value());
      if (plan.config.peer_asn_mode == PeerAsnMode::kExternal) peer_as = "external";
      if (plan.config.peer_asn_mode == PeerAsnMode::kInternal) peer_as = "internal";
      spdlog::info(
          "event=peer_added peer={} address={} port={} local_as={} peer_as={} md5={} "
          "connect_retry={}s",
          name, plan.endpoint.address.to_string(), plan.endpoint.port,
          plan.config.local_asn.value(), peer_as, plan.endpoint.password.empty() ? "off" : "on",
          std::chrono::duration_cast<std::chrono::seconds>(plan.config.connect_retry_max).count());
      SessionConfig config = plan.config;
      // Only the sessions of the first apply follow the restart; later ones are new peers.
      config.graceful_restart.restarted = options_.restarted && !applied_once_;
      if (status_) status_->PeerAdded(name, plan);
      session = std::make_shared<PeerSession>(io_, plan.endpoint, config, observer);
      give_routes(*session, name, true);
      session->Start();
    } else {
      give_routes(*session, name, false);
    }
  }
  applied_once_ = true;
  {
    std::map<std::string, PeerEndpoint> endpoints;
    for (const auto& [name, plan] : plans_) endpoints.emplace(name, plan.endpoint);
    bfd_->Apply(peers, bfd_profiles, endpoints);
  }
  // Every peer's bfdStatus as this apply leaves it: a new BFD session starts Down, a removed
  // or refused one is N/A, and a BGP session restarted beside a BFD session that kept running
  // gets its state again (the sink ignores what did not change).
  if (status_) {
    for (const auto& [name, plan] : plans_) status_->BfdChanged(name, BfdStatus(bfd_->state(name)));
  }
  if (status_) status_->ApplyDone();
  UpdateSessionMetric();
  ready_ = true;
  return plans.size();
}

void Speaker::UpdateSessionMetric() {
  std::map<SessionState, int> by_state;
  std::map<std::string, SessionState> by_peer;
  for (const auto& [name, session] : sessions_) {
    ++by_state[session->state()];
    by_peer[name] = session->state();
  }
  metrics_.SetSessions(by_state);
  metrics_.SetSessionUp(by_peer);
}

}  // namespace bgpcomm::speaker
