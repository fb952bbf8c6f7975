// The --objects mode: the speaker's inputs read from manifest files (the same YAML the
// cluster would hold) and resolved the way `bgpcomm resolve` does.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "speaker/desired_routes.h"

namespace bgpcomm::speaker {

struct LoadedObjects {
  SpeakerObjects objects;
  // Advertisements whose spec.communities do not resolve (invalid literal), left out of
  // `objects` so that they announce nothing.
  std::vector<RefusedAdvertisement> refused;
  std::vector<std::string> files;  // every file read, for change detection
};

// Loads every path (files or folders, as `bgpcomm lint` takes them). metallb.io objects
// without a namespace are in metallb-system, others in default. Every BGPAdvertisement gets
// the annotation `bgpcomm resolve` would store (aliases of its namespace; unknown names left
// unresolved, which refuses it later). The node is the Node object named `node_name` if the
// files hold one, else a node with only the kubernetes.io/hostname label. Fails when a file
// cannot be read or parsed.
std::expected<LoadedObjects, std::string> LoadObjects(std::span<const std::string> paths,
                                                      std::string_view node_name);

}  // namespace bgpcomm::speaker
