#include "speaker/status_publisher.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "community/ip_prefix.h"
#include "objectjson/status.h"
#include "speaker/prefix_conversion.h"
#include "speaker/speaker.h"

namespace bgpcomm::speaker {
namespace {

std::string Rfc3339Now() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

}  // namespace

std::string SpeakerConfigurationName(const std::string& node) {
  return status::ObjectName("speaker", node);
}

StatusPublisher::StatusPublisher(kube::StatusWriter& writer, StatusPublisherOptions options)
    : writer_(writer), options_(std::move(options)) {}

void StatusPublisher::Adopt() {
  const std::string& ns = options_.namespace_name;
  auto sessions = writer_.Adopt(objectjson::kBGPSessionStates, ns,
                                std::string(objectjson::kSessionNodeLabel) + "=" +
                                    options_.node_name);
  if (!sessions) {
    spdlog::warn("event=status_adopt_failed kind=BGPSessionState error=\"{}\"",
                 sessions.error().ToString());
  }
  if (options_.service_status) {
    auto services = writer_.Adopt(objectjson::kServiceBGPStatuses, ns,
                                  std::string(objectjson::kNodeLabel) + "=" + options_.node_name);
    if (!services) {
      spdlog::warn("event=status_adopt_failed kind=ServiceBGPStatus error=\"{}\"",
                   services.error().ToString());
    }
  }
}

void StatusPublisher::Publish(const std::string& peer, bool urgent) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  kube::StatusObject object{
      .resource = objectjson::kBGPSessionStates,
      .namespace_name = options_.namespace_name,
      .name = status::ObjectName(options_.node_name, peer),
      .labels = {{objectjson::kSessionNodeLabel, options_.node_name},
                 {objectjson::kSessionPeerLabel, peer}},
      .status = status::SessionStatusJson(it->second)};
  writer_.Set(object, urgent ? options_.state_interval : options_.prefixes_interval);
}

void StatusPublisher::PeerAdded(const std::string& peer, const PeerPlan& plan) {
  status::SessionStatus s;
  s.node = options_.node_name;
  s.peer = status::PeerLabel(plan.endpoint.address.to_string(), plan.endpoint.port);
  s.bgp_peer = options_.namespace_name + "/" + peer;
  s.bgp_status = "Idle";
  s.since = Rfc3339Now();
  sessions_[peer] = std::move(s);
  Publish(peer, true);
}

void StatusPublisher::PeerRemoved(const std::string& peer) {
  sessions_.erase(peer);
  writer_.Remove(objectjson::kBGPSessionStates, options_.namespace_name,
                 status::ObjectName(options_.node_name, peer), options_.state_interval);
}

void StatusPublisher::StateChanged(const std::string& peer, SessionState to) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  std::string name(StateName(to));
  if (it->second.bgp_status == name) return;
  it->second.bgp_status = name;
  it->second.since = Rfc3339Now();
  Publish(peer, true);
}

void StatusPublisher::Sent(const std::string& peer, const RouteSet& sent,
                           const RibOutput::Membership* membership) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  status::SessionStatus& s = it->second;
  auto format = [](const IpPrefix& prefix) { return community::Format(ToCommunityPrefix(prefix)); };
  // O(prefixes changed): the digest follows the membership changes; the list is rebuilt
  // only while it is short enough to be published.
  status::PrefixesDigestSum digest = s.prefixes_digest;
  if (membership) {
    for (const IpPrefix& p : membership->added) digest.Add(format(p));
    for (const IpPrefix& p : membership->removed) digest.Remove(format(p));
  } else {
    digest = {};
    for (const auto& [prefix, attributes] : sent) digest.Add(format(prefix));
  }
  std::vector<std::string> listed;
  if (sent.size() <= status::kListedPrefixes) {
    for (const auto& [prefix, attributes] : sent) listed.push_back(format(prefix));
    std::sort(listed.begin(), listed.end());
  }
  if (digest == s.prefixes_digest && s.prefixes_sent == sent.size() && listed == s.prefixes) return;
  s.prefixes_digest = digest;
  s.prefixes_sent = sent.size();
  s.prefixes = std::move(listed);
  Publish(peer, false);
}

void StatusPublisher::ConnectUnanswered(const std::string& peer) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  ++it->second.unanswered_connects;
  it->second.last_error =
      "connection attempt unanswered: check the TCP MD5 password (password/passwordSecret) "
      "and filters";
  Publish(peer, true);
}

void StatusPublisher::Error(const std::string& peer, const std::string& error) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end()) return;
  // "connection lost" after "connection lost: End of file" adds nothing.
  if (it->second.last_error.starts_with(error)) return;
  it->second.last_error = error;
  Publish(peer, true);
}

void StatusPublisher::BfdChanged(const std::string& peer, const std::string& state) {
  auto it = sessions_.find(peer);
  if (it == sessions_.end() || it->second.bfd_status == state) return;
  it->second.bfd_status = state;
  Publish(peer, true);
}

void StatusPublisher::Applied(const std::vector<RefusedAdvertisement>& refused,
                              const std::vector<std::string>& refused_peers) {
  status::ConfigurationStatus next =
      status::SpeakerConfiguration(refused, refused_peers, configuration_, Rfc3339Now());
  configuration_ = next;
  writer_.Set({.resource = objectjson::kConfigurationStates,
               .namespace_name = options_.namespace_name,
               .name = SpeakerConfigurationName(options_.node_name),
               .labels = {{objectjson::kComponentLabel, "speaker"},
                          {objectjson::kSessionNodeLabel, options_.node_name}},
               .status = objectjson::ConfigurationStatusJson(next)},
              options_.state_interval);
}

void StatusPublisher::ServicesAnnounced(const std::vector<ServiceAnnouncement>& services,
                                        bool whole) {
  if (!options_.service_status) return;
  auto remove = [&](const std::string& name) {
    writer_.Remove(objectjson::kServiceBGPStatuses, options_.namespace_name, name,
                   options_.prefixes_interval);
  };
  std::map<std::string, std::string> now;  // whole: every one announced
  for (const status::ServiceAnnouncement& a : services) {
    std::string name = status::ObjectName(options_.node_name, a.namespace_name + "-" + a.name);
    if (a.peers.empty()) {
      if (services_.erase(name) != 0) remove(name);
      continue;
    }
    writer_.Set({.resource = objectjson::kServiceBGPStatuses,
                 .namespace_name = options_.namespace_name,
                 .name = name,
                 .labels = {{objectjson::kNodeLabel, options_.node_name},
                            {objectjson::kServiceNameLabel, a.name},
                            {objectjson::kServiceNamespaceLabel, a.namespace_name}},
                 .status = status::ServiceStatusJson(options_.node_name, a)},
                options_.prefixes_interval);
    if (whole) {
      now[name] = a.namespace_name + "/" + a.name;
    } else {
      services_[name] = a.namespace_name + "/" + a.name;
    }
  }
  if (!whole) return;
  for (const auto& [name, service] : services_) {
    if (!now.contains(name)) remove(name);
  }
  services_ = std::move(now);
}

void StatusPublisher::ApplyDone() {
  if (released_) return;
  // The first complete state is known: objects of an earlier run that are still true are
  // rewritten, the others deleted.
  released_ = true;
  writer_.Release();
}

}  // namespace bgpcomm::speaker
