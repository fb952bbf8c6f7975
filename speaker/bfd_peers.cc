#include "speaker/bfd_peers.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "community/value.h"

namespace bgpcomm::speaker {
namespace {

constexpr bfd::State kStates[] = {bfd::State::kAdminDown, bfd::State::kDown, bfd::State::kInit,
                                  bfd::State::kUp};

std::string Ms(bfd::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

}  // namespace

std::string BfdStatus(std::optional<bfd::State> state) {
  return state ? std::string(bfd::StateName(*state)) : "N/A";
}

std::expected<std::optional<BfdPlan>, std::string> PlanBfd(
    const community::Peer& peer, std::span<const community::BfdProfile> profiles,
    const PeerEndpoint& endpoint) {
  if (peer.bfd_profile.empty()) return std::nullopt;
  auto fail = [&](std::string m) {
    return std::unexpected("BGPPeer " + peer.meta.name + ": " + m);
  };
  auto it = std::find_if(profiles.begin(), profiles.end(), [&](const community::BfdProfile& p) {
    return p.meta.name == peer.bfd_profile && p.meta.namespace_name == peer.meta.namespace_name;
  });
  if (it == profiles.end()) {
    return fail("spec.bfdProfile: BFDProfile " + community::Quote(peer.bfd_profile) +
                " does not exist; the session runs without BFD until it is created");
  }
  const community::BfdProfile& profile = *it;
  if (profile.echo_mode.value_or(false)) {
    return fail("BFDProfile " + community::Quote(profile.meta.name) +
                " spec.echoMode: the echo function is not implemented; set echoMode to false "
                "(asynchronous mode detects failures at transmitInterval x detectMultiplier); "
                "the session runs without BFD until then");
  }
  BfdPlan plan;
  plan.profile = profile.meta.name;
  plan.path.peer = endpoint.address;
  plan.path.local = endpoint.source;
  plan.path.multihop = peer.ebgp_multihop;
  plan.path.minimum_ttl = static_cast<std::uint8_t>(std::clamp<std::int64_t>(
      profile.minimum_ttl.value_or(254), 1, 254));
  auto ms = [](std::optional<std::int64_t> v) {
    return bfd::Duration(std::chrono::milliseconds(std::clamp<std::int64_t>(v.value_or(300), 10, 60000)));
  };
  plan.config.desired_min_tx = ms(profile.transmit_interval);
  plan.config.required_min_rx = ms(profile.receive_interval);
  plan.config.detect_multiplier =
      static_cast<std::uint8_t>(std::clamp<std::int64_t>(profile.detect_multiplier.value_or(3), 2, 255));
  plan.config.passive = profile.passive_mode.value_or(false);
  return plan;
}

BfdPeers::BfdPeers(asio::io_context& io, prometheus::Registry* registry, DownHandler on_down,
                   bfd::DriverOptions options)
    : driver_(io, options), on_down_(std::move(on_down)) {
  if (!registry) return;
  state_ = &prometheus::BuildGauge()
                .Name("bgpcomm_speaker_bfd_session_state")
                .Help("BFD session of each BGPPeer with a bfdProfile: 1 for its current state "
                      "(AdminDown, Down, Init, Up)")
                .Register(*registry);
  downs_ = &prometheus::BuildCounter()
                .Name("bgpcomm_speaker_bfd_down_total")
                .Help("BFD sessions that left Up for a path failure, each dropping the peer's "
                      "BGP session, by peer")
                .Register(*registry);
}

BfdPeers::~BfdPeers() = default;

void BfdPeers::SetStateMetric(const std::string& peer, std::optional<bfd::State> state) {
  if (!state_) return;
  for (bfd::State s : kStates) {
    std::map<std::string, std::string> labels{{"peer", peer},
                                              {"state", std::string(bfd::StateName(s))}};
    if (state) {
      state_->Add(labels).Set(*state == s ? 1 : 0);
    } else if (state_->Has(labels)) {
      state_->Remove(&state_->Add(labels));
    }
  }
}

void BfdPeers::Apply(std::span<const community::Peer> peers,
                     std::span<const community::BfdProfile> profiles,
                     const std::map<std::string, PeerEndpoint>& endpoints) {
  std::map<std::string, BfdPlan> plans;
  for (const community::Peer& peer : peers) {
    auto endpoint = endpoints.find(peer.meta.name);
    if (endpoint == endpoints.end()) continue;  // no BGP session from this node
    auto plan = PlanBfd(peer, profiles, endpoint->second);
    if (!plan) {
      // Logged when it first appears or changes, not on every apply.
      if (refused_[peer.meta.name] != plan.error()) {
        spdlog::error("event=bfd_refused peer={} error={}", peer.meta.name,
                      community::Quote(plan.error()));
        refused_[peer.meta.name] = plan.error();
      }
      continue;
    }
    refused_.erase(peer.meta.name);
    if (*plan) plans.emplace(peer.meta.name, std::move(**plan));
  }
  std::erase_if(refused_, [&](const auto& r) { return !endpoints.contains(r.first); });
  for (auto it = running_.begin(); it != running_.end();) {
    auto plan = plans.find(it->first);
    if (plan == plans.end() || !(plan->second == it->second.plan)) {
      spdlog::info("event=bfd_session_removed peer={}", it->first);
      driver_.Remove(it->second.id);
      SetStateMetric(it->first, std::nullopt);
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [name, plan] : plans) {
    if (running_.contains(name)) continue;
    std::string peer = name;
    auto id = driver_.Add(plan.path, plan.config,
                          [this, peer](const bfd::StateChange& c) { Changed(peer, c); });
    if (!id) {
      spdlog::error("event=bfd_unavailable peer={} error={} action=bgp_without_bfd", name,
                    community::Quote(id.error()));
      continue;
    }
    spdlog::info(
        "event=bfd_session_added peer={} profile={} address={} source_port={} multihop={} "
        "transmit_interval={} receive_interval={} detect_multiplier={} passive={} "
        "discriminator={}",
        name, plan.profile, plan.path.peer.to_string(), driver_.source_port(*id),
        plan.path.multihop, Ms(plan.config.desired_min_tx), Ms(plan.config.required_min_rx),
        plan.config.detect_multiplier, plan.config.passive, *id);
    running_[name] = Running{plan, *id};
    SetStateMetric(name, driver_.state(*id));
  }
}

void BfdPeers::Stop() {
  for (auto& [name, running] : running_) {
    driver_.Remove(running.id);
    SetStateMetric(name, bfd::State::kAdminDown);
  }
  running_.clear();
}

std::optional<bfd::State> BfdPeers::state(const std::string& peer) const {
  auto it = running_.find(peer);
  if (it == running_.end()) return std::nullopt;
  return driver_.state(it->second.id);
}

void BfdPeers::Changed(const std::string& peer, const bfd::StateChange& change) {
  spdlog::info(
      "event=bfd_session_state peer={} from={} to={} diagnostic={} peer_state={} "
      "peer_diagnostic={}",
      peer, bfd::StateName(change.from), bfd::StateName(change.to),
      community::Quote(std::string(bfd::DiagnosticName(change.diagnostic))),
      bfd::StateName(change.remote_state),
      community::Quote(std::string(bfd::DiagnosticName(change.remote_diagnostic))));
  SetStateMetric(peer, change.to);
  if (on_state_) on_state_(peer, change.to);
  if (change.from != bfd::State::kUp) return;
  if (change.remote_state == bfd::State::kAdminDown) {
    // RFC 5882 §3.2: the peer turned BFD off; that says nothing about the path.
    spdlog::info("event=bfd_peer_admin_down peer={} action=keeping_bgp_session", peer);
    return;
  }
  std::string diagnostic(bfd::DiagnosticName(change.diagnostic));
  spdlog::warn("event=bfd_down peer={} diagnostic={} action=bgp_session_reset", peer,
               community::Quote(diagnostic));
  if (downs_) downs_->Add({{"peer", peer}}).Increment();
  if (on_down_) on_down_(peer, diagnostic);
}

}  // namespace bgpcomm::speaker
