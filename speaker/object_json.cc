#include "speaker/object_json.h"

#include <array>
#include <cstdint>

#include "kube/base64.h"
#include "objectjson/fields.h"
#include "objectjson/metallb.h"

namespace bgpcomm::speaker {
namespace {

using objectjson::Fields;

constexpr std::string_view kServiceNameLabel = "kubernetes.io/service-name";

}  // namespace

Service DecodeService(const rapidjson::Value& object, community::Diagnostics& out) {
  Fields root(&object, "", out);
  community::ObjectMeta meta = objectjson::DecodeMeta(object, out);
  Fields spec = root.Object("spec");
  Service service{.name = meta.name,
                  .namespace_name = meta.namespace_name,
                  .type = spec.String("type"),
                  .external_traffic_policy = spec.String("externalTrafficPolicy"),
                  .ingress_ips = {},
                  .labels = meta.labels};
  root.Object("status").Object("loadBalancer").Objects("ingress", [&](const Fields& ingress) {
    std::string ip = ingress.String("ip");
    if (!ip.empty()) service.ingress_ips.push_back(std::move(ip));
  });
  return service;
}

EndpointSlice DecodeEndpointSlice(const rapidjson::Value& object, community::Diagnostics& out) {
  Fields root(&object, "", out);
  community::ObjectMeta meta = objectjson::DecodeMeta(object, out);
  EndpointSlice slice{.name = meta.name,
                      .namespace_name = meta.namespace_name,
                      .service_name = {},
                      .endpoints = {}};
  if (auto it = meta.labels.find(std::string(kServiceNameLabel)); it != meta.labels.end()) {
    slice.service_name = it->second;
  }
  root.Objects("endpoints", [&](const Fields& e) {
    Endpoint endpoint{.addresses = e.Strings("addresses"), .ready = {}, .node_name = {}};
    Fields conditions = e.Object("conditions");
    if (conditions.Get("ready") != nullptr) endpoint.ready = conditions.Bool("ready");
    endpoint.node_name = e.String("nodeName");
    slice.endpoints.push_back(std::move(endpoint));
  });
  return slice;
}

Node DecodeNode(const rapidjson::Value& object, community::Diagnostics& out) {
  Fields root(&object, "", out);
  community::ObjectMeta meta = objectjson::DecodeMeta(object, out);
  return {.name = std::move(meta.name), .labels = std::move(meta.labels)};
}

Secret DecodeSecret(const rapidjson::Value& object, community::Diagnostics& out) {
  Fields root(&object, "", out);
  community::ObjectMeta meta = objectjson::DecodeMeta(object, out);
  Secret secret{.name = meta.name,
                .namespace_name = meta.namespace_name,
                .type = root.String("type"),
                .data = {}};
  for (auto& [key, encoded] : root.StringMap("data")) {
    auto decoded = kube::DecodeBase64(encoded);
    if (!decoded) {
      out.Error("data." + key, "is not valid base64");
      continue;
    }
    secret.data.emplace(key, std::move(*decoded));
  }
  return secret;
}

std::expected<std::string, std::string> PeerPassword(const Secret& secret) {
  auto it = secret.data.find("password");
  if (it == secret.data.end() || it->second.empty()) {
    return std::unexpected("Secret " + secret.namespace_name + "/" + secret.name +
                           " has no data.password");
  }
  return it->second;
}

}  // namespace bgpcomm::speaker
