#include "speaker/status_core.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "community/ip_prefix.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::speaker::status {
namespace {

std::uint64_t Fnv1a(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string Hex(std::uint64_t value) {
  char buffer[17];
  std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string JoinSorted(std::vector<std::string> items, std::string_view separator) {
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// One prefix's term of the digest sum: FNV-1a of its line, then SplitMix64's finalizer,
// so that every bit of the term depends on every octet (a plain FNV sum would leave the
// low bits of similar prefixes too close).
std::uint64_t DigestTerm(std::string_view prefix) {
  std::uint64_t z = Fnv1a("\n", Fnv1a(prefix));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void PrefixesDigestSum::Add(std::string_view prefix) { sum_ += DigestTerm(prefix); }

void PrefixesDigestSum::Remove(std::string_view prefix) { sum_ -= DigestTerm(prefix); }

std::string PrefixesDigestSum::Hex() const { return status::Hex(sum_); }

std::string PrefixesDigest(std::vector<std::string> prefixes) {
  std::sort(prefixes.begin(), prefixes.end());
  prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
  PrefixesDigestSum digest;
  for (const std::string& p : prefixes) digest.Add(p);
  return digest.Hex();
}

std::string ObjectName(std::string_view first, std::string_view second) {
  std::string whole = std::string(first) + "-" + std::string(second);
  std::string name;
  name.reserve(whole.size());
  for (char c : whole) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    name += ok ? c : '-';
  }
  auto edge = [](char c) { return c == '-' || c == '.'; };
  while (!name.empty() && edge(name.front())) name.erase(name.begin());
  while (!name.empty() && edge(name.back())) name.pop_back();
  constexpr std::size_t kMax = 253;
  if (name.empty() || name.size() > kMax || name != whole) {
    // Changed or too long: a digest of the original keeps distinct inputs distinct.
    std::string digest = Hex(Fnv1a(whole));
    std::size_t keep = std::min(name.size(), kMax - digest.size() - 1);
    name = name.substr(0, keep);
    while (!name.empty() && edge(name.back())) name.pop_back();
    name = name.empty() ? digest : name + "-" + digest;
  }
  return name;
}

std::string PeerLabel(const std::string& address, std::uint16_t port) {
  if (port == 179) return address;
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

nlohmann::json SessionStatusJson(const SessionStatus& s) {
  nlohmann::json j = {{"node", s.node},
                      {"peer", s.peer},
                      {"bgpPeer", s.bgp_peer},
                      {"bgpStatus", s.bgp_status},
                      {"bfdStatus", s.bfd_status},
                      {"prefixesSent", s.prefixes_sent},
                      {"prefixesDigest", s.prefixes_digest.Hex()},
                      {"lastError", s.last_error},
                      {"unansweredConnects", s.unanswered_connects}};
  if (!s.since.empty()) j["since"] = s.since;
  if (s.prefixes_sent <= kListedPrefixes) {
    j["prefixes"] = s.prefixes;
  } else {
    j["prefixes"] = nullptr;  // merge patch: drop a list written earlier
  }
  return j;
}

ConfigurationStatus SpeakerConfiguration(const std::vector<RefusedAdvertisement>& refused,
                                         const std::vector<std::string>& refused_peers,
                                         const ConfigurationStatus& previous,
                                         const std::string& now) {
  std::vector<std::string> advertisement_errors;
  for (const RefusedAdvertisement& r : refused) {
    advertisement_errors.push_back("BGPAdvertisement " + r.namespace_name + "/" + r.name +
                                   " not announced (" +
                                   std::string(community::RefusalKindName(r.kind)) +
                                   "): " + r.reason);
  }
  std::string advertisements = JoinSorted(advertisement_errors, "; ");
  std::string peers = JoinSorted(refused_peers, "; ");
  ConfigurationStatus out;
  out.conditions.push_back(
      objectjson::KeepTransition({.type = "AdvertisementsAnnounced",
            .status = advertisements.empty() ? "True" : "False",
            .reason = advertisements.empty() ? "AllAnnounced" : "AdvertisementRefused",
            .message = advertisements.empty() ? "every BGPAdvertisement is announced"
                                              : advertisements},
           previous, now));
  out.conditions.push_back(objectjson::KeepTransition({.type = "PeersAccepted",
                                 .status = peers.empty() ? "True" : "False",
                                 .reason = peers.empty() ? "AllAccepted" : "PeerRefused",
                                 .message = peers.empty() ? "every BGPPeer of this node has a session"
                                                          : peers},
                                previous, now));
  out.error_summary = JoinSorted(
      [&] {
        std::vector<std::string> all;
        if (!advertisements.empty()) all.push_back(advertisements);
        if (!peers.empty()) all.push_back(peers);
        return all;
      }(),
      "; ");
  out.result = out.error_summary.empty() ? "Valid" : "Invalid";
  return out;
}

nlohmann::json ServiceStatusJson(const std::string& node, const ServiceAnnouncement& service) {
  return {{"node", node},
          {"peers", service.peers},
          {"serviceName", service.name},
          {"serviceNamespace", service.namespace_name}};
}

}  // namespace bgpcomm::speaker::status
