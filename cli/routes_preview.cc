#include "cli/routes_preview.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <utility>

#include "allocator/allocator.h"
#include "community/ip_prefix.h"
#include "community/value.h"
#include "manifest/loader.h"
#include "manifest/object_decoder.h"
#include "manifest/yaml_writer.h"
#include "speaker/desired_routes.h"
#include "speaker/objects_file.h"
#include "speaker/prefix_conversion.h"

namespace bgpcomm::cli {
namespace {

constexpr std::string_view kAnyNode = "*";

std::string Join(const std::vector<std::string>& values, std::string_view separator = " ") {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out += separator;
    out += v;
  }
  return out;
}

std::string FormatPrefix(const speaker::IpPrefix& prefix) {
  return community::Format(speaker::ToCommunityPrefix(prefix));
}

std::string NamespaceOr(const std::string& ns, std::string_view fallback) {
  return ns.empty() ? std::string(fallback) : ns;
}

// The manifests as the preview needs them beside the speaker's objects: every object's
// fingerprint, the Services in full (for allocation) and the Nodes.
struct SetObjects {
  std::vector<community::ServiceObject> services;
  std::vector<community::NodeSummary> nodes;
  std::map<std::string, std::map<std::string, std::string>> namespace_labels;
  std::map<ObjectRef, std::string> fingerprints;
};

std::expected<SetObjects, std::string> ReadSet(std::span<const std::string> paths) {
  manifest::ManifestSet set = manifest::LoadPaths(paths);
  if (!set.ok()) return std::unexpected(set.errors.front().ToString());
  SetObjects out;
  for (const manifest::Document& doc : set.documents) {
    bool metallb = doc.api_version.starts_with("metallb.io/");
    ObjectRef ref{doc.kind,
                  NamespaceOr(doc.namespace_name, metallb ? community::kDefaultNamespace
                                                  : doc.kind == "Node" ? ""
                                                                       : "default"),
                  doc.name};
    if (doc.node != nullptr) {
      auto text = manifest::WriteDocuments(std::vector<manifest::YamlNodePtr>{doc.node});
      if (text) out.fingerprints[ref] = *text;
    }
    std::vector<community::Diagnostic> ignored;  // Services are not judged
    if (doc.kind == "Service" && doc.api_version == "v1" && doc.node != nullptr) {
      community::ServiceObject service = manifest::DecodeService(*doc.node, ignored);
      service.meta.namespace_name = ref.namespace_name;
      out.services.push_back(std::move(service));
    } else if (doc.kind == "Node" && doc.api_version == "v1" && doc.node != nullptr) {
      out.nodes.push_back(manifest::DecodeNode(*doc.node, ignored));
    } else if (doc.kind == "Namespace" && doc.api_version == "v1" && doc.node != nullptr) {
      community::NodeSummary ns = manifest::DecodeNode(*doc.node, ignored);  // name, labels
      out.namespace_labels[ns.name] = std::move(ns.labels);
    }
  }
  return out;
}

// The first pool (in input order) whose addresses contain `address`.
const community::AddressPool* PoolOf(const std::vector<community::AddressPool>& pools,
                                     const std::string& address) {
  auto ip = community::ParseAddress(address);
  if (!ip) return nullptr;
  for (const community::AddressPool& pool : pools) {
    for (const std::string& entry : pool.addresses) {
      auto prefixes = community::ParsePoolEntry(entry);
      if (!prefixes) continue;
      for (const community::Prefix& p : *prefixes) {
        if (community::Contains(p, *ip)) return &pool;
      }
    }
  }
  return nullptr;
}

// The allocator's view of a decoded Service.
allocator::Service ToAllocatorService(
    const community::ServiceObject& s,
    const std::map<std::string, std::map<std::string, std::string>>& namespace_labels) {
  allocator::Service out;
  out.namespace_name = s.meta.namespace_name;
  out.name = s.meta.name;
  out.labels = s.meta.labels;
  if (auto ns = namespace_labels.find(s.meta.namespace_name); ns != namespace_labels.end()) {
    out.namespace_labels = ns->second;
  }
  out.namespace_labels.emplace("kubernetes.io/metadata.name", s.meta.namespace_name);
  out.annotations = s.meta.annotations;
  out.type = s.type;
  out.load_balancer_class = s.load_balancer_class;
  out.load_balancer_ip = s.load_balancer_ip;
  for (const std::string& family : s.ip_families) {
    if (auto f = allocator::ParseIpFamily(family)) out.ip_families.push_back(*f);
  }
  if (s.ip_family_policy)
    out.ip_family_policy = allocator::ParseIpFamilyPolicy(*s.ip_family_policy);
  for (const community::ServicePort& port : s.ports) {
    out.ports.push_back({port.protocol.empty() ? "TCP" : port.protocol, port.port.value_or(0)});
  }
  out.external_traffic_policy = allocator::ParseTrafficPolicy(s.external_traffic_policy)
                                    .value_or(allocator::TrafficPolicy::kCluster);
  out.selector = s.selector;
  for (const community::LoadBalancerIngress& ingress : s.status.load_balancer.ingress) {
    if (!ingress.ip.empty()) out.held.push_back(ingress.ip);
  }
  return out;
}

bool IsLoadBalancer(const speaker::Service& s) { return s.type == "LoadBalancer"; }

// (peer, prefix) pairs a computation announces.
using Announced = std::set<std::pair<std::string, speaker::IpPrefix>>;

Announced AnnouncedBy(const speaker::SpeakerObjects& objects) {
  Announced out;
  speaker::DesiredRoutes routes = speaker::ComputeDesiredRoutes(objects);
  for (const auto& [peer, set] : routes.by_peer) {
    for (const auto& [prefix, attributes] : set) out.emplace(peer, prefix);
  }
  return out;
}

std::vector<std::string> Families(const community::Peer& peer) {
  auto address = community::ParseAddress(peer.peer_address);
  bool v6 = address && address->v6;
  if (peer.dual_stack_address_family) return {"ipv4", "ipv6"};
  return {v6 ? "ipv6" : "ipv4"};
}

// The Community objects that define an alias `advertisement` names.
std::vector<ObjectRef> CommunitiesOf(const community::Advertisement& advertisement,
                                     const std::map<ObjectRef, std::string>& fingerprints,
                                     const std::vector<community::CommunityObject>& communities) {
  std::vector<ObjectRef> out;
  for (const community::CommunityObject& c : communities) {
    if (c.meta.namespace_name != advertisement.meta.namespace_name) continue;
    bool used = std::ranges::any_of(c.aliases, [&](const community::CommunityAlias& alias) {
      return std::ranges::find(advertisement.communities, alias.name) !=
             advertisement.communities.end();
    });
    if (used) out.push_back({"Community", c.meta.namespace_name, c.meta.name});
  }
  (void)fingerprints;
  return out;
}

}  // namespace

std::string ObjectRef::ToString() const {
  return kind + " " + (namespace_name.empty() ? name : namespace_name + "/" + name);
}

std::expected<Preview, std::string> BuildPreview(std::span<const std::string> paths,
                                                 const PreviewOptions& options) {
  auto set = ReadSet(paths);
  if (!set) return std::unexpected(set.error());
  auto loaded = speaker::LoadObjects(paths, "");
  if (!loaded) return std::unexpected(loaded.error());
  speaker::SpeakerObjects& objects = loaded->objects;
  Preview preview;
  preview.fingerprints = std::move(set->fingerprints);

  // Communities are read again only to name the objects behind a resolution.
  std::vector<community::CommunityObject> communities;
  {
    manifest::ManifestSet again = manifest::LoadPaths(paths);
    for (manifest::Document& doc : again.documents) {
      if (auto* c = std::get_if<community::CommunityObject>(&doc.object)) {
        c->meta.namespace_name = NamespaceOr(c->meta.namespace_name, community::kDefaultNamespace);
        communities.push_back(*c);
      }
    }
  }

  // Addresses: held (status) or, for the others, what the allocator would give them.
  std::vector<allocator::Service> to_allocate;
  for (const community::ServiceObject& s : set->services) {
    to_allocate.push_back(ToAllocatorService(s, set->namespace_labels));
  }
  allocator::Options allocator_options{options.load_balancer_class};
  auto allocation = allocator::AllocateAll(objects.pools, to_allocate, allocator_options);
  std::map<std::string, const allocator::Result*> decided;  // by namespace/name
  if (allocation) {
    for (const allocator::Result& r : allocation->results) decided[r.key] = &r;
  }
  for (speaker::Service& service : objects.services) {
    if (!IsLoadBalancer(service)) continue;
    PreviewService entry{
        {"Service", service.namespace_name, service.name}, service.ingress_ips, false, {}};
    auto r = decided.find(service.namespace_name + "/" + service.name);
    if (!entry.addresses.empty() && r != decided.end() && r->second->ok() &&
        !r->second->addresses.empty() && r->second->addresses != entry.addresses) {
      // A held address the allocator would not keep (it left its pool): its replacement.
      entry.reason = "replaces " + Join(entry.addresses) + " from status";
      entry.addresses = r->second->addresses;
      entry.predicted = true;
      service.ingress_ips = r->second->addresses;
    } else if (!entry.addresses.empty() && allocation && r != decided.end() &&
               r->second->failed()) {
      entry.reason = std::string(allocator::Name(r->second->reason)) +
                     (r->second->message.empty() ? "" : ": " + r->second->message);
    } else if (entry.addresses.empty()) {
      if (!allocation) {
        entry.reason = "the pools cannot be used: " + allocation.error().front().ToString();
      } else if (r == decided.end()) {
        entry.reason = "not decided";
      } else if (!r->second->addresses.empty() && r->second->ok()) {
        entry.addresses = r->second->addresses;
        entry.predicted = true;
        service.ingress_ips = r->second->addresses;
      } else {
        entry.reason = std::string(allocator::Name(r->second->reason)) +
                       (r->second->message.empty() ? "" : ": " + r->second->message);
      }
    }
    preview.services.push_back(std::move(entry));
  }
  std::map<std::pair<std::string, std::string>, const PreviewService*> service_entry;
  for (const PreviewService& s : preview.services) {
    service_entry[{s.service.namespace_name, s.service.name}] = &s;
  }

  for (const speaker::RefusedAdvertisement& r : loaded->refused) {
    preview.refused.push_back({{"BGPAdvertisement", r.namespace_name, r.name}, r.reason});
  }

  // Nodes: the one asked for, else every Node of the set, else any node.
  std::vector<speaker::Node> nodes;
  auto labels_of = [&](const std::string& name) -> std::optional<speaker::Node> {
    for (const community::NodeSummary& n : set->nodes) {
      if (n.name == name) return speaker::Node{n.name, n.labels};
    }
    return std::nullopt;
  };
  if (!options.node.empty()) {
    auto node = labels_of(options.node);
    nodes.push_back(node ? *node
                         : speaker::Node{options.node, {{"kubernetes.io/hostname", options.node}}});
  } else if (!set->nodes.empty()) {
    for (const community::NodeSummary& n : set->nodes) nodes.push_back({n.name, n.labels});
  } else {
    nodes.push_back({std::string(kAnyNode), {}});
  }

  bool refused_recorded = false;
  for (const speaker::Node& node : nodes) {
    objects.node = node;
    speaker::DesiredRoutes routes = speaker::ComputeDesiredRoutes(objects);
    if (!refused_recorded) {
      for (const speaker::RefusedAdvertisement& r : routes.refused) {
        preview.refused.push_back({{"BGPAdvertisement", r.namespace_name, r.name}, r.reason});
      }
      refused_recorded = true;
    }
    // Which Service and which advertisement makes each (peer, prefix): the same
    // computation over one of them at a time.
    std::map<std::pair<std::string, speaker::IpPrefix>, std::vector<std::size_t>> by_service;
    std::map<std::pair<std::string, speaker::IpPrefix>, std::vector<std::size_t>> by_advert;
    {
      speaker::SpeakerObjects one = objects;
      for (std::size_t i = 0; i < objects.services.size(); ++i) {
        if (!IsLoadBalancer(objects.services[i])) continue;
        one.services = {objects.services[i]};
        for (const auto& key : AnnouncedBy(one)) by_service[key].push_back(i);
      }
      one.services = objects.services;
      for (std::size_t i = 0; i < objects.advertisements.size(); ++i) {
        one.advertisements = {objects.advertisements[i]};
        for (const auto& key : AnnouncedBy(one)) by_advert[key].push_back(i);
      }
    }

    PreviewNode& out_node = preview.nodes.emplace_back();
    out_node.name = node.name;
    for (const auto& [peer_name, set_of_routes] : routes.by_peer) {
      const community::Peer* peer = nullptr;
      for (const community::Peer& p : objects.peers) {
        if (p.meta.name == peer_name) {
          peer = &p;
          break;
        }
      }
      PreviewPeer& out_peer = out_node.peers.emplace_back();
      out_peer.name = peer_name;
      if (peer != nullptr) {
        out_peer.namespace_name = peer->meta.namespace_name;
        out_peer.address = peer->peer_address;
        out_peer.my_asn = peer->my_asn.value_or(0);
        out_peer.peer_asn = peer->peer_asn.value_or(0);
        out_peer.ibgp = peer->my_asn && peer->peer_asn && *peer->my_asn == *peer->peer_asn;
        out_peer.families = Families(*peer);
      }
      for (const auto& [prefix, attributes] : set_of_routes) {
        PreviewRoute& route = out_peer.routes.emplace_back();
        route.prefix = FormatPrefix(prefix);
        route.family = prefix.afi() == speaker::Afi::kIpv6 ? "ipv6" : "ipv4";
        for (const auto& c : attributes.communities)
          route.communities.push_back(community::Format(c));
        for (const auto& c : attributes.large_communities) {
          route.large_communities.push_back(community::Format(c));
        }
        route.local_pref = attributes.local_pref;
        route.local_pref_sent = out_peer.ibgp && attributes.local_pref.has_value();
        if (std::ranges::find(out_peer.families, route.family) == out_peer.families.end()) {
          route.not_sent = "the session carries " + out_peer.families.front() +
                           " only (spec.dualStackAddressFamily is false)";
        }
        std::set<ObjectRef> objects_behind;
        bool all_predicted = true;
        bool any_address = false;
        auto key = std::make_pair(peer_name, prefix);
        for (std::size_t i : by_service[key]) {
          const speaker::Service& s = objects.services[i];
          objects_behind.insert({"Service", s.namespace_name, s.name});
          auto entry = service_entry.find({s.namespace_name, s.name});
          bool predicted = entry != service_entry.end() && entry->second->predicted;
          for (const std::string& address : s.ingress_ips) {
            auto ip = community::ParseAddress(address);
            if (!ip || !community::Contains(speaker::ToCommunityPrefix(prefix), *ip)) continue;
            route.addresses.push_back(address);
            any_address = true;
            all_predicted = all_predicted && predicted;
            if (const community::AddressPool* pool = PoolOf(objects.pools, address)) {
              objects_behind.insert({"IPAddressPool", pool->meta.namespace_name, pool->meta.name});
            }
          }
        }
        route.predicted = any_address && all_predicted;
        std::ranges::sort(route.addresses);
        route.addresses.erase(std::unique(route.addresses.begin(), route.addresses.end()),
                              route.addresses.end());
        for (std::size_t i : by_advert[key]) {
          const community::Advertisement& a = objects.advertisements[i];
          objects_behind.insert({"BGPAdvertisement", a.meta.namespace_name, a.meta.name});
          for (ObjectRef& c : CommunitiesOf(a, preview.fingerprints, communities)) {
            objects_behind.insert(std::move(c));
          }
        }
        if (peer != nullptr) {
          objects_behind.insert({"BGPPeer", peer->meta.namespace_name, peer->meta.name});
        }
        if (node.name != kAnyNode && preview.fingerprints.contains({"Node", "", node.name})) {
          objects_behind.insert({"Node", "", node.name});
        }
        route.objects.assign(objects_behind.begin(), objects_behind.end());
      }
    }
  }
  return preview;
}

// ---- Text and JSON of a preview ----

namespace {

// `communities 64512:100 64512:200 large:64512:1:100 local-pref 100`
std::string Attributes(const PreviewRoute& route, bool ibgp) {
  std::string out = route.family + " next-hop";
  std::vector<std::string> all = route.communities;
  all.insert(all.end(), route.large_communities.begin(), route.large_communities.end());
  out += all.empty() ? "  no communities" : "  communities " + Join(all);
  if (route.local_pref) {
    out += "  local-pref " + std::to_string(*route.local_pref);
    if (!ibgp) out += " (not sent: eBGP)";
  }
  return out;
}

std::string PeerHeading(const PreviewPeer& peer) {
  std::string out = "peer " + peer.name;
  if (!peer.address.empty()) out += " " + peer.address;
  if (peer.peer_asn != 0) {
    out += " AS" + std::to_string(peer.peer_asn) + (peer.ibgp ? " iBGP" : " eBGP");
  }
  return out;
}

nlohmann::ordered_json RefJson(const ObjectRef& ref) {
  return {{"kind", ref.kind}, {"namespace", ref.namespace_name}, {"name", ref.name}};
}

nlohmann::ordered_json RouteJson(const PreviewRoute& route) {
  nlohmann::ordered_json j;
  j["prefix"] = route.prefix;
  j["nextHopFamily"] = route.family;
  j["communities"] = route.communities;
  j["largeCommunities"] = route.large_communities;
  j["localPref"] = route.local_pref ? nlohmann::ordered_json(*route.local_pref) : nullptr;
  j["localPrefSent"] = route.local_pref_sent;
  j["sent"] = route.not_sent.empty();
  if (!route.not_sent.empty()) j["notSent"] = route.not_sent;
  j["addresses"] = route.addresses;
  j["predicted"] = route.predicted;
  j["objects"] = nlohmann::ordered_json::array();
  for (const ObjectRef& o : route.objects) j["objects"].push_back(RefJson(o));
  return j;
}

}  // namespace

std::string PreviewText(const Preview& preview) {
  std::ostringstream out;
  for (const PreviewNode& node : preview.nodes) {
    out << "node " << node.name;
    if (node.name == kAnyNode) out << " (no Node in the manifests: any node, no labels)";
    out << '\n';
    if (node.peers.empty()) out << "  no BGPPeer selects this node\n";
    for (const PreviewPeer& peer : node.peers) {
      out << "  " << PeerHeading(peer) << '\n';
      if (peer.routes.empty()) out << "    (nothing announced)\n";
      for (const PreviewRoute& route : peer.routes) {
        out << "    " << route.prefix << "  " << Attributes(route, peer.ibgp);
        if (route.predicted) out << "  (predicted address)";
        out << '\n';
        std::string from;
        for (const char* kind : {"Service", "IPAddressPool", "BGPAdvertisement"}) {
          std::vector<std::string> names;
          for (const ObjectRef& o : route.objects) {
            if (o.kind != kind) continue;
            names.push_back(std::string_view(kind) == "Service" ? o.namespace_name + "/" + o.name
                                                                : o.name);
          }
          if (names.empty()) continue;
          if (!from.empty()) from += "; ";
          from += std::string(kind) + " " + Join(names, ",");
        }
        if (!from.empty()) out << "      from " << from << '\n';
        if (!route.not_sent.empty()) out << "      NOT SENT: " << route.not_sent << '\n';
      }
    }
  }
  for (const PreviewService& s : preview.services) {
    if (s.predicted) {
      out << "predicted: " << s.service.ToString() << " would get " << Join(s.addresses);
      if (!s.reason.empty()) out << " (" << s.reason << ")";
      out << '\n';
    } else if (s.addresses.empty()) {
      out << "no address: " << s.service.ToString() << ": " << s.reason << '\n';
    } else if (!s.reason.empty()) {
      out << "allocator: " << s.service.ToString() << " keeps " << Join(s.addresses)
          << " from status but: " << s.reason << '\n';
    }
  }
  for (const RefusedObject& r : preview.refused) {
    out << "refused: " << r.object.ToString() << " announces nothing: " << r.reason << '\n';
  }
  return out.str();
}

nlohmann::ordered_json PreviewJson(const Preview& preview) {
  nlohmann::ordered_json j;
  j["nodes"] = nlohmann::ordered_json::array();
  for (const PreviewNode& node : preview.nodes) {
    nlohmann::ordered_json n{{"node", node.name}, {"peers", nlohmann::ordered_json::array()}};
    for (const PreviewPeer& peer : node.peers) {
      nlohmann::ordered_json p{
          {"peer", peer.name},           {"namespace", peer.namespace_name},
          {"peerAddress", peer.address}, {"myASN", peer.my_asn},
          {"peerASN", peer.peer_asn},    {"ibgp", peer.ibgp},
          {"families", peer.families},   {"routes", nlohmann::ordered_json::array()}};
      for (const PreviewRoute& route : peer.routes) p["routes"].push_back(RouteJson(route));
      n["peers"].push_back(std::move(p));
    }
    j["nodes"].push_back(std::move(n));
  }
  j["services"] = nlohmann::ordered_json::array();
  for (const PreviewService& s : preview.services) {
    nlohmann::ordered_json e = RefJson(s.service);
    e.erase("kind");
    e["addresses"] = s.addresses;
    e["predicted"] = s.predicted;
    if (!s.reason.empty()) e["reason"] = s.reason;
    j["services"].push_back(std::move(e));
  }
  j["refused"] = nlohmann::ordered_json::array();
  for (const RefusedObject& r : preview.refused) {
    nlohmann::ordered_json e = RefJson(r.object);
    e["reason"] = r.reason;
    j["refused"].push_back(std::move(e));
  }
  return j;
}

// ---- What a change does ----

namespace {

using RouteKey = std::tuple<std::string, std::string, std::string>;  // node, peer, prefix

struct Sent {
  const PreviewRoute* route;
  bool ibgp;
};

std::map<RouteKey, Sent> SentRoutes(const Preview& preview) {
  std::map<RouteKey, Sent> out;
  for (const PreviewNode& node : preview.nodes) {
    for (const PreviewPeer& peer : node.peers) {
      for (const PreviewRoute& route : peer.routes) {
        if (route.not_sent.empty()) out[{node.name, peer.name, route.prefix}] = {&route, peer.ibgp};
      }
    }
  }
  return out;
}

// `name -a +b` for two sorted lists; empty when equal.
std::string ListChange(std::string_view name, const std::vector<std::string>& before,
                       const std::vector<std::string>& after) {
  std::vector<std::string> removed, added;
  std::ranges::set_difference(before, after, std::back_inserter(removed));
  std::ranges::set_difference(after, before, std::back_inserter(added));
  if (removed.empty() && added.empty()) return {};
  std::string out(name);
  for (const std::string& r : removed) out += " -" + r;
  for (const std::string& a : added) out += " +" + a;
  return out;
}

std::optional<std::uint32_t> WireLocalPref(const Sent& s) {
  return s.ibgp ? s.route->local_pref : std::nullopt;
}

std::string LocalPrefText(std::optional<std::uint32_t> v) {
  return v ? std::to_string(*v) : std::string("none");
}

std::vector<std::string> ServicesOf(const PreviewRoute& route) {
  std::vector<std::string> out;
  for (const ObjectRef& o : route.objects) {
    if (o.kind == "Service") out.push_back(o.ToString());
  }
  return out;
}

// The objects behind `route` whose content differs between the two sets.
void AddCauses(const PreviewRoute& route, const Preview& base, const Preview& head,
               std::set<std::string>& causes) {
  for (const ObjectRef& o : route.objects) {
    auto b = base.fingerprints.find(o);
    auto h = head.fingerprints.find(o);
    if (b == base.fingerprints.end() && h != head.fingerprints.end()) {
      causes.insert(o.ToString() + " (added)");
    } else if (b != base.fingerprints.end() && h == head.fingerprints.end()) {
      causes.insert(o.ToString() + " (removed)");
    } else if (b != base.fingerprints.end() && b->second != h->second) {
      causes.insert(o.ToString() + " (changed)");
    }
  }
}

// Every object the change touches, for routes whose own objects did not change (an
// allocation that moved because another Service came or went).
std::vector<std::string> ChangedObjects(const Preview& base, const Preview& head) {
  std::vector<std::string> out;
  for (const auto& [ref, text] : base.fingerprints) {
    auto h = head.fingerprints.find(ref);
    if (h == head.fingerprints.end()) {
      out.push_back(ref.ToString() + " (removed)");
    } else if (h->second != text) {
      out.push_back(ref.ToString() + " (changed)");
    }
  }
  for (const auto& [ref, text] : head.fingerprints) {
    if (!base.fingerprints.contains(ref)) out.push_back(ref.ToString() + " (added)");
  }
  return out;
}

std::vector<RefusedObject> RefusedOnlyIn(const Preview& in, const Preview& other) {
  std::vector<RefusedObject> out;
  for (const RefusedObject& r : in.refused) {
    bool also = std::ranges::any_of(other.refused, [&](const RefusedObject& o) {
      return o.object == r.object && o.reason == r.reason;
    });
    if (!also) out.push_back(r);
  }
  return out;
}

}  // namespace

PreviewDiff DiffPreviews(const Preview& base, const Preview& head) {
  PreviewDiff diff;
  std::map<RouteKey, Sent> before = SentRoutes(base);
  std::map<RouteKey, Sent> after = SentRoutes(head);
  std::vector<std::string> changed_objects = ChangedObjects(base, head);
  auto finish = [&](RouteChange& change) {
    std::set<std::string> causes;
    if (change.before) AddCauses(*change.before, base, head, causes);
    if (change.after) AddCauses(*change.after, base, head, causes);
    change.causes.assign(causes.begin(), causes.end());
    if (change.causes.empty()) change.causes = changed_objects;
  };

  std::vector<RouteKey> withdrawn, added;
  for (const auto& [key, sent] : before) {
    auto it = after.find(key);
    if (it == after.end()) {
      withdrawn.push_back(key);
      continue;
    }
    RouteChange change{RouteChange::Kind::kChanged,
                       std::get<0>(key),
                       std::get<1>(key),
                       *sent.route,
                       *it->second.route,
                       {},
                       {}};
    if (auto c = ListChange("communities", sent.route->communities, it->second.route->communities);
        !c.empty()) {
      change.what.push_back(c);
    }
    if (auto c = ListChange("large-communities", sent.route->large_communities,
                            it->second.route->large_communities);
        !c.empty()) {
      change.what.push_back(c);
    }
    if (WireLocalPref(sent) != WireLocalPref(it->second)) {
      change.what.push_back("local-pref " + LocalPrefText(WireLocalPref(sent)) + " -> " +
                            LocalPrefText(WireLocalPref(it->second)));
    }
    if (change.what.empty()) continue;
    finish(change);
    diff.changes.push_back(std::move(change));
  }
  for (const auto& [key, sent] : after) {
    if (!before.contains(key)) added.push_back(key);
  }

  // A withdrawn and an added route of the same node, peer and Services: the address moved.
  std::vector<bool> paired(added.size(), false);
  for (const RouteKey& w : withdrawn) {
    const Sent& old_route = before.at(w);
    std::vector<std::string> services = ServicesOf(*old_route.route);
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < added.size() && !services.empty(); ++i) {
      if (paired[i] || std::get<0>(added[i]) != std::get<0>(w) ||
          std::get<1>(added[i]) != std::get<1>(w)) {
        continue;
      }
      if (ServicesOf(*after.at(added[i]).route) == services) {
        match = i;
        break;
      }
    }
    RouteChange change{RouteChange::Kind::kWithdrawn,
                       std::get<0>(w),
                       std::get<1>(w),
                       *old_route.route,
                       std::nullopt,
                       {},
                       {}};
    if (match) {
      paired[*match] = true;
      const Sent& new_route = after.at(added[*match]);
      change.kind = RouteChange::Kind::kChanged;
      change.after = *new_route.route;
      change.what.push_back("address " + old_route.route->prefix + " -> " +
                            new_route.route->prefix +
                            (new_route.route->predicted ? " (predicted)" : ""));
      if (auto c =
              ListChange("communities", old_route.route->communities, new_route.route->communities);
          !c.empty()) {
        change.what.push_back(c);
      }
      if (auto c = ListChange("large-communities", old_route.route->large_communities,
                              new_route.route->large_communities);
          !c.empty()) {
        change.what.push_back(c);
      }
      if (WireLocalPref(old_route) != WireLocalPref(new_route)) {
        change.what.push_back("local-pref " + LocalPrefText(WireLocalPref(old_route)) + " -> " +
                              LocalPrefText(WireLocalPref(new_route)));
      }
    }
    finish(change);
    diff.changes.push_back(std::move(change));
  }
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (paired[i]) continue;
    RouteChange change{RouteChange::Kind::kAdded,
                       std::get<0>(added[i]),
                       std::get<1>(added[i]),
                       std::nullopt,
                       *after.at(added[i]).route,
                       {},
                       {}};
    finish(change);
    diff.changes.push_back(std::move(change));
  }
  std::ranges::stable_sort(diff.changes, {}, [](const RouteChange& c) {
    const PreviewRoute& r = c.after ? *c.after : *c.before;
    return std::tie(c.node, c.peer, r.prefix);
  });
  diff.newly_refused = RefusedOnlyIn(head, base);
  diff.no_longer_refused = RefusedOnlyIn(base, head);
  return diff;
}

namespace {

std::string RouteSummary(const PreviewRoute& route) {
  std::vector<std::string> all = route.communities;
  all.insert(all.end(), route.large_communities.begin(), route.large_communities.end());
  std::string out = route.prefix + " " + (all.empty() ? "no communities" : Join(all));
  if (route.local_pref) out += " local-pref " + std::to_string(*route.local_pref);
  if (route.predicted) out += " (predicted address)";
  return out;
}

const char* KindName(RouteChange::Kind kind) {
  switch (kind) {
    case RouteChange::Kind::kAdded:
      return "added";
    case RouteChange::Kind::kWithdrawn:
      return "withdrawn";
    case RouteChange::Kind::kChanged:
      return "changed";
  }
  return "";
}

// At most three causes, then how many more.
std::string CausesText(const std::vector<std::string>& causes) {
  std::vector<std::string> shown(causes.begin(),
                                 causes.begin() + std::min<std::size_t>(causes.size(), 3));
  std::string out = Join(shown, ", ");
  if (causes.size() > 3) out += " and " + std::to_string(causes.size() - 3) + " more";
  return out;
}

}  // namespace

std::string DiffText(const PreviewDiff& diff) {
  std::ostringstream out;
  if (diff.empty()) {
    out << "routes: no change\n";
    return out.str();
  }
  std::size_t counts[3] = {0, 0, 0};
  for (const RouteChange& c : diff.changes) ++counts[static_cast<int>(c.kind)];
  out << "routes: " << counts[0] << " added, " << counts[1] << " withdrawn, " << counts[2]
      << " changed\n";
  for (const RouteChange& c : diff.changes) {
    const char mark = c.kind == RouteChange::Kind::kAdded       ? '+'
                      : c.kind == RouteChange::Kind::kWithdrawn ? '-'
                                                                : '~';
    out << mark << " node " << c.node << " peer " << c.peer << ": ";
    switch (c.kind) {
      case RouteChange::Kind::kAdded:
        out << RouteSummary(*c.after);
        break;
      case RouteChange::Kind::kWithdrawn:
        out << RouteSummary(*c.before);
        break;
      case RouteChange::Kind::kChanged:
        if (!c.what.empty() && c.what.front().starts_with("address ")) {
          out << Join(c.what, "; ");
        } else {
          out << c.after->prefix << " " << Join(c.what, "; ");
        }
        break;
    }
    out << '\n';
    if (!c.causes.empty()) out << "    caused by " << CausesText(c.causes) << '\n';
  }
  for (const RefusedObject& r : diff.newly_refused) {
    out << "! " << r.object.ToString() << " now announces nothing: " << r.reason << '\n';
  }
  for (const RefusedObject& r : diff.no_longer_refused) {
    out << "! " << r.object.ToString() << " no longer refused (was: " << r.reason << ")\n";
  }
  return out.str();
}

nlohmann::ordered_json DiffJson(const PreviewDiff& diff) {
  nlohmann::ordered_json j;
  j["changed"] = !diff.empty();
  j["changes"] = nlohmann::ordered_json::array();
  for (const RouteChange& c : diff.changes) {
    nlohmann::ordered_json e{{"change", KindName(c.kind)}, {"node", c.node}, {"peer", c.peer}};
    e["before"] = c.before ? RouteJson(*c.before) : nlohmann::ordered_json(nullptr);
    e["after"] = c.after ? RouteJson(*c.after) : nlohmann::ordered_json(nullptr);
    e["what"] = c.what;
    e["causes"] = c.causes;
    j["changes"].push_back(std::move(e));
  }
  auto refused = [](const std::vector<RefusedObject>& list) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const RefusedObject& r : list) {
      nlohmann::ordered_json e = RefJson(r.object);
      e["reason"] = r.reason;
      a.push_back(std::move(e));
    }
    return a;
  };
  j["newlyRefused"] = refused(diff.newly_refused);
  j["noLongerRefused"] = refused(diff.no_longer_refused);
  return j;
}

}  // namespace bgpcomm::cli
