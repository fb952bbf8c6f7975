#include "objectjson/metallb.h"

#include <string>

#include "objectjson/fields.h"

namespace bgpcomm::objectjson {

community::CommunityObject DecodeCommunity(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  community::CommunityObject result{.meta = DecodeMeta(root)};
  root.Object("spec").Objects("communities", [&](const Fields& f) {
    result.aliases.push_back({.name = f.String("name"), .value = f.String("value")});
  });
  return result;
}

community::Advertisement DecodeAdvertisement(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  return {.meta = DecodeMeta(root),
          .aggregation_length = spec.Integer("aggregationLength"),
          .aggregation_length_v6 = spec.Integer("aggregationLengthV6"),
          .local_pref = spec.Integer("localPref"),
          .communities = spec.Strings("communities"),
          .ip_address_pools = spec.Strings("ipAddressPools"),
          .ip_address_pool_selectors = DecodeSelectors(spec, "ipAddressPoolSelectors"),
          .node_selectors = DecodeSelectors(spec, "nodeSelectors"),
          .peers = spec.Strings("peers")};
}

community::AddressPool DecodePool(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  community::AddressPool result{.meta = DecodeMeta(root), .addresses = spec.Strings("addresses")};
  if (spec.Get("autoAssign") != nullptr) result.auto_assign = spec.Bool("autoAssign");
  return result;
}

community::Peer DecodePeer(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  community::Peer result{.meta = DecodeMeta(root),
                         .my_asn = spec.Integer("myASN"),
                         .peer_asn = spec.Integer("peerASN"),
                         .dynamic_asn = spec.String("dynamicASN"),
                         .peer_address = spec.String("peerAddress"),
                         .source_address = spec.String("sourceAddress"),
                         .peer_port = spec.Integer("peerPort"),
                         .hold_time = spec.String("holdTime"),
                         .keepalive_time = spec.String("keepaliveTime"),
                         .connect_time = spec.String("connectTime"),
                         .router_id = spec.String("routerID"),
                         .node_selectors = DecodeSelectors(spec, "nodeSelectors"),
                         .password = spec.String("password"),
                         .password_secret = {},
                         .ebgp_multihop = spec.Bool("ebgpMultiHop"),
                         .dual_stack_address_family = spec.Bool("dualStackAddressFamily"),
                         .disable_mp = spec.Bool("disableMP"),
                         .vrf = spec.String("vrf")};
  // passwordSecret is a SecretReference {name, namespace}.
  result.password_secret = spec.Object("passwordSecret").String("name");
  return result;
}

}  // namespace bgpcomm::objectjson
