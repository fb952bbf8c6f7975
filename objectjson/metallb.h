// Decoding of the metallb.io objects from JSON (an AdmissionReview, a watch stream) through
// the field table of community/schema.h, the same table the YAML decoder walks. Wrong
// types are reported as errors with their field path, never thrown; fields the table does
// not know are skipped (the API server prunes them before bgpcomm sees an object).
#pragma once

#include <rapidjson/document.h>

#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::objectjson {

// metadata.name, namespace, labels and annotations of any Kubernetes object.
community::ObjectMeta DecodeMeta(const rapidjson::Value& object, community::Diagnostics& out);

// Each decoder reads metadata and spec of `object` (a JSON object) and reports type errors
// into `out`, e.g. `spec.aggregationLength: must be an integer, got string`.
community::CommunityObject DecodeCommunity(const rapidjson::Value& object,
                                           community::Diagnostics& out);
community::Advertisement DecodeAdvertisement(const rapidjson::Value& object,
                                             community::Diagnostics& out);
community::AddressPool DecodePool(const rapidjson::Value& object, community::Diagnostics& out);
community::Peer DecodePeer(const rapidjson::Value& object, community::Diagnostics& out);
community::BfdProfile DecodeBfdProfile(const rapidjson::Value& object,
                                       community::Diagnostics& out);

// A core/v1 Service: metadata, spec and status through ServiceObject's table.
community::ServiceObject DecodeService(const rapidjson::Value& object,
                                       community::Diagnostics& out);

}  // namespace bgpcomm::objectjson
