#include "speaker/objects_file.h"

#include <map>
#include <utility>

#include "community/alias_table.h"
#include "community/annotation.h"
#include "manifest/loader.h"
#include "manifest/object_decoder.h"

namespace bgpcomm::speaker {
namespace {

using manifest::YamlNode;

std::string Scalar(const YamlNode& node) { return node.IsScalar() ? node.text() : std::string(); }

std::map<std::string, std::string> StringMap(const YamlNode& node) {
  std::map<std::string, std::string> out;
  for (const manifest::YamlEntry& entry : node.entries()) {
    if (entry.key->IsScalar() && entry.value->IsScalar())
      out[entry.key->text()] = entry.value->text();
  }
  return out;
}

template <typename F>
void ForEach(const YamlNode& sequence, F&& f) {
  for (const manifest::YamlNodePtr& item : sequence.items()) f(*item);
}

Service DecodeService(const manifest::Document& doc) {
  using manifest::FieldOf;
  Service s;
  s.name = doc.name;
  s.namespace_name = doc.namespace_name.empty() ? "default" : doc.namespace_name;
  const YamlNode& spec = FieldOf(*doc.node, "spec");
  s.type = Scalar(FieldOf(spec, "type"));
  s.external_traffic_policy = Scalar(FieldOf(spec, "externalTrafficPolicy"));
  for (const auto& entry : FieldOf(FieldOf(*doc.node, "metadata"), "labels").entries()) {
    s.labels[entry.key->text()] = Scalar(*entry.value);
  }
  ForEach(FieldOf(FieldOf(FieldOf(*doc.node, "status"), "loadBalancer"), "ingress"),
          [&](const YamlNode& ingress) {
            std::string ip = Scalar(FieldOf(ingress, "ip"));
            if (!ip.empty()) s.ingress_ips.push_back(ip);
          });
  return s;
}

EndpointSlice DecodeEndpointSlice(const manifest::Document& doc) {
  using manifest::FieldOf;
  EndpointSlice e;
  e.name = doc.name;
  e.namespace_name = doc.namespace_name.empty() ? "default" : doc.namespace_name;
  auto labels = StringMap(FieldOf(FieldOf(*doc.node, "metadata"), "labels"));
  e.service_name = labels["kubernetes.io/service-name"];
  ForEach(FieldOf(*doc.node, "endpoints"), [&](const YamlNode& node) {
    Endpoint endpoint;
    ForEach(FieldOf(node, "addresses"), [&](const YamlNode& a) {
      if (a.IsScalar()) endpoint.addresses.push_back(a.text());
    });
    std::string ready = Scalar(FieldOf(FieldOf(node, "conditions"), "ready"));
    if (ready == "true") endpoint.ready = true;
    if (ready == "false") endpoint.ready = false;
    endpoint.node_name = Scalar(FieldOf(node, "nodeName"));
    e.endpoints.push_back(std::move(endpoint));
  });
  return e;
}

}  // namespace

std::expected<LoadedObjects, std::string> LoadObjects(std::span<const std::string> paths,
                                                      std::string_view node_name) {
  LoadedObjects out;
  SpeakerObjects& o = out.objects;
  o.node.name = std::string(node_name);
  o.node.labels["kubernetes.io/hostname"] = std::string(node_name);
  // Only decoded objects are needed: trees are dropped as soon as each document is decoded
  // and documents are not kept, so a file of 100,000 Services is never in memory as trees.
  std::map<std::string, std::vector<community::CommunityObject>> communities;
  std::vector<community::Advertisement> advertisements;
  auto with_namespace = [](community::ObjectMeta& meta) {
    if (meta.namespace_name.empty())
      meta.namespace_name = std::string(community::kDefaultNamespace);
  };
  manifest::LoadOptions options;
  options.keep_trees = false;
  options.keep_documents = false;
  options.on_object = [&](const manifest::Document& doc) {
    if (auto* c = std::get_if<community::CommunityObject>(&doc.object)) {
      community::CommunityObject copy = *c;
      with_namespace(copy.meta);
      communities[copy.meta.namespace_name].push_back(std::move(copy));
    } else if (auto* a = std::get_if<community::Advertisement>(&doc.object)) {
      advertisements.push_back(*a);
      with_namespace(advertisements.back().meta);
    } else if (auto* p = std::get_if<community::AddressPool>(&doc.object)) {
      o.pools.push_back(*p);
      with_namespace(o.pools.back().meta);
    } else if (auto* peer = std::get_if<community::Peer>(&doc.object)) {
      o.peers.push_back(*peer);
      with_namespace(o.peers.back().meta);
    } else if (auto* profile = std::get_if<community::BfdProfile>(&doc.object)) {
      o.bfd_profiles.push_back(*profile);
      with_namespace(o.bfd_profiles.back().meta);
    } else if (doc.kind == "Service" && doc.api_version == "v1") {
      o.services.push_back(DecodeService(doc));
    } else if (doc.kind == "EndpointSlice" && doc.api_version.starts_with("discovery.k8s.io/")) {
      o.endpoint_slices.push_back(DecodeEndpointSlice(doc));
    } else if (doc.kind == "Node" && doc.api_version == "v1" && doc.name == node_name) {
      auto labels = StringMap(manifest::FieldOf(manifest::FieldOf(*doc.node, "metadata"), "labels"));
      o.node.labels.insert(labels.begin(), labels.end());
    }
  };
  manifest::ManifestSet set = manifest::LoadPaths(paths, options);
  if (!set.ok()) return std::unexpected(set.errors.front().ToString());
  out.files = set.files;
  std::map<std::string, community::AliasTable> tables;
  for (auto& [ns, list] : communities) tables[ns] = community::AliasTable::Build(list);
  static const community::AliasTable kNoAliases;
  for (community::Advertisement& a : advertisements) {
    auto table = tables.find(a.meta.namespace_name);
    community::Diagnostics problems;
    community::StoredCommunities stored = community::ComputeStored(
        a, nullptr, table == tables.end() ? kNoAliases : table->second,
        community::UnresolvedPolicy::kWarn, community::ExpandMode::kAnnotation, problems);
    if (problems.HasErrors()) {
      out.refused.push_back(
          {a.meta.namespace_name, a.meta.name,
           "spec.communities do not resolve: " + problems.Errors().front().ToString()});
      continue;
    }
    a.meta.annotations[std::string(community::kResolvedAnnotation)] = stored.Annotation();
    o.advertisements.push_back(std::move(a));
  }
  return out;
}

}  // namespace bgpcomm::speaker
