// Decoding of the four metallb.io objects from JSON (an AdmissionReview, a watch stream).
// Wrong types are reported as errors with their field path, never thrown.
#pragma once

#include <rapidjson/document.h>

#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::objectjson {

// Each decoder reads the fields bgpcomm judges from `object` (a JSON object with
// metadata and spec) and reports type errors into `out`, e.g.
// `spec.aggregationLength: must be an integer, got string`.
community::CommunityObject DecodeCommunity(const rapidjson::Value& object,
                                           community::Diagnostics& out);
community::Advertisement DecodeAdvertisement(const rapidjson::Value& object,
                                             community::Diagnostics& out);
community::AddressPool DecodePool(const rapidjson::Value& object, community::Diagnostics& out);
community::Peer DecodePeer(const rapidjson::Value& object, community::Diagnostics& out);

}  // namespace bgpcomm::objectjson
