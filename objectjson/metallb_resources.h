// The metallb.io REST resources bgpcomm reads and writes, for the Kubernetes client
// (kube/ itself knows no MetalLB types).
#pragma once

#include "kube/resource.h"

namespace bgpcomm::objectjson {

inline const kube::Resource kCommunities{"metallb.io", "v1beta1", "communities", "Community"};
inline const kube::Resource kBGPAdvertisements{"metallb.io", "v1beta1", "bgpadvertisements",
                                               "BGPAdvertisement"};
inline const kube::Resource kIPAddressPools{"metallb.io", "v1beta1", "ipaddresspools",
                                            "IPAddressPool"};
inline const kube::Resource kBGPPeers{"metallb.io", "v1beta2", "bgppeers", "BGPPeer"};
inline const kube::Resource kBFDProfiles{"metallb.io", "v1beta1", "bfdprofiles", "BFDProfile"};

}  // namespace bgpcomm::objectjson
