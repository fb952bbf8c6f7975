// Decoding of the core Kubernetes objects the speaker reads (Service, EndpointSlice, Node,
// Secret) from their JSON form: what the informers hold, and what a JSON objects file would
// hold. Pure: values in, structs out; wrong types are reported into Diagnostics with their
// field path and read as missing, never thrown.
#pragma once

#include <rapidjson/document.h>

#include <expected>
#include <map>
#include <string>

#include "community/diagnostic.h"
#include "speaker/desired_routes.h"

namespace bgpcomm::speaker {

// A Secret (v1): its `data`, base64-decoded.
struct Secret {
  std::string name;
  std::string namespace_name;
  std::string type;
  std::map<std::string, std::string> data;
};

// metadata.name/namespace, spec.type, spec.externalTrafficPolicy and every
// status.loadBalancer.ingress[].ip (entries with only a hostname are skipped).
Service DecodeService(const rapidjson::Value& object, community::Diagnostics& out);

// metadata.name/namespace, the label kubernetes.io/service-name, and per endpoint its
// addresses, conditions.ready (absent or null: unset) and nodeName.
EndpointSlice DecodeEndpointSlice(const rapidjson::Value& object, community::Diagnostics& out);

// metadata.name and metadata.labels.
Node DecodeNode(const rapidjson::Value& object, community::Diagnostics& out);

// metadata.name/namespace, type and data (each value base64-decoded; a value that is not
// valid base64 is reported at `data.KEY` and left out).
Secret DecodeSecret(const rapidjson::Value& object, community::Diagnostics& out);

// The TCP MD5 password a BGPPeer's passwordSecret names: the Secret's `password` key
// (MetalLB's contract; MetalLB also expects type kubernetes.io/basic-auth, which is not
// required here). Fails, naming the Secret, when the key is missing or empty.
std::expected<std::string, std::string> PeerPassword(const Secret& secret);


}  // namespace bgpcomm::speaker
