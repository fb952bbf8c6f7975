// The JSON Patch (RFC 6902) that stores bgpcomm's resolution on a BGPAdvertisement.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <vector>

#include "community/annotation.h"
#include "community/objects.h"

namespace bgpcomm::webhook {

// The patch turning `object` (the submitted JSON) into one that carries `stored`: it
// touches only metadata.annotations["bgpcomm.io/resolved-communities"] (creating
// metadata.annotations when absent; `/` escaped as `~1`, RFC 6901) and, when
// `replace_spec` is set and the values differ, spec.communities. Returns nullopt when
// `object` already carries exactly that.
std::optional<std::string> ResolutionPatch(const rapidjson::Value& object,
                                           const community::StoredCommunities& stored,
                                           bool replace_spec);

// The same patch for an object already decoded (a stored BGPAdvertisement): `meta` and
// `spec_communities` as stored.
std::optional<std::string> ResolutionPatch(const community::ObjectMeta& meta,
                                           const std::vector<std::string>& spec_communities,
                                           const community::StoredCommunities& stored,
                                           bool replace_spec);

// RFC 6901 escaping of one reference token.
std::string EscapePointerToken(std::string_view token);

}  // namespace bgpcomm::webhook
