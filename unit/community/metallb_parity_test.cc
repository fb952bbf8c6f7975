// MetalLB 0.16.2's verdicts (internal/config config.go and validation.go, the api types'
// kubebuilder/CEL markers, the webhooks), one case per rule: what MetalLB decides, in
// `metallb`, and bgpcomm's exact message. community/README.md lists the same rules.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "community/admission.h"

namespace bgpcomm::community {
namespace {

constexpr char kNamespace[] = "metallb-system";

ObjectMeta Meta(std::string name) {
  ObjectMeta meta;
  meta.name = std::move(name);
  meta.namespace_name = kNamespace;
  return meta;
}

AddressPool Pool(std::string name, std::vector<std::string> addresses) {
  AddressPool pool;
  pool.meta = Meta(std::move(name));
  pool.addresses = std::move(addresses);
  return pool;
}

Advertisement Advert(std::string name) {
  Advertisement advertisement;
  advertisement.meta = Meta(std::move(name));
  advertisement.ip_address_pools = {"pool-a"};
  return advertisement;
}

Peer RouterPeer(std::string name, std::string address) {
  Peer peer;
  peer.meta = Meta(std::move(name));
  peer.my_asn = 64512;
  peer.peer_asn = 64512;  // iBGP: localPref reaches it
  peer.peer_address = std::move(address);
  return peer;
}

// pool-a (203.0.113.0/28), peers router-a and router-b, two nodes in racks a and b.
struct World {
  NamespaceObjects objects;
  AliasTable aliases;
  World() {
    objects.namespace_name = kNamespace;
    objects.pools = {Pool("pool-a", {"203.0.113.0/28"})};
    objects.peers = {RouterPeer("router-a", "198.51.100.2"),
                     RouterPeer("router-b", "198.51.100.6")};
    objects.nodes = std::vector<NodeSummary>{{"node-a", {{"rack", "a"}}},
                                             {"node-b", {{"rack", "b"}}}};
  }
  NamespaceContext Context() {
    aliases = AliasTable::Build(objects.communities);
    return {objects, aliases};
  }
};

std::vector<std::string> Lines(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics.items) {
    out.push_back((d.severity == Severity::kError ? "E " : "W ") + d.ToString());
  }
  return out;
}

// kAcceptsBgpcommDenies: a deliberate difference listed in community/README.md.
enum class MetalLB { kAccepts, kDenies, kAcceptsBgpcommDenies };

struct Case {
  std::string name;
  MetalLB metallb;
  // Builds the world and judges the object under test.
  std::function<Diagnostics(World&)> judge;
  std::vector<std::string> expected;
};

class MetallbParity : public testing::TestWithParam<Case> {};

TEST_P(MetallbParity, SameVerdictExactMessage) {
  World world;
  Diagnostics diagnostics = GetParam().judge(world);
  EXPECT_EQ(Lines(diagnostics), GetParam().expected);
  EXPECT_EQ(diagnostics.HasErrors(), GetParam().metallb != MetalLB::kAccepts)
      << "bgpcomm's verdict differs from MetalLB 0.16.2's";
}

Diagnostics JudgePool(World& world, const AddressPool& pool) {
  return ValidatePool(pool, world.Context(), {});
}
Diagnostics JudgeAdvert(World& world, const Advertisement& advertisement,
                        AdmissionOptions options = {}) {
  return ValidateAdvertisement(advertisement, nullptr, world.Context(), options).diagnostics;
}
Diagnostics JudgePeer(World& world, const Peer& peer, AdmissionOptions options = {}) {
  return ValidatePeer(peer, world.Context(), options);
}

LabelSelector Rack(std::string rack) { return {{{"rack", std::move(rack)}}, {}}; }

INSTANTIATE_TEST_SUITE_P(
    IPAddressPool, MetallbParity,
    testing::Values(
        // config.go poolsFor: "CIDR ... overlaps with already defined CIDR".
        Case{"OverlapsAnotherPoolsCidr", MetalLB::kDenies,
             [](World& w) { return JudgePool(w, Pool("pool-b", {"203.0.113.8/29"})); },
             {R"(E spec.addresses[0]: "203.0.113.8/29" of IPAddressPool pool-b overlaps "203.0.113.0/28" of IPAddressPool pool-a; an address belongs to one pool)"}},
        Case{"RangeOverlapsAnotherPoolsIpv6Cidr", MetalLB::kDenies,
             [](World& w) {
               w.objects.pools.push_back(Pool("pool-v6", {"2001:db8::/120"}));
               return JudgePool(w, Pool("pool-b", {"2001:db8::f0-2001:db8::1:0"}));
             },
             {R"(E spec.addresses[0]: "2001:db8::f0-2001:db8::1:0" of IPAddressPool pool-b overlaps "2001:db8::/120" of IPAddressPool pool-v6; an address belongs to one pool)"}},
        Case{"AdjacentPoolsDoNotOverlap", MetalLB::kAccepts,
             [](World& w) { return JudgePool(w, Pool("pool-b", {"203.0.113.16-203.0.113.20"})); },
             {}},
        Case{"UpdateOfItselfIsNoOverlap", MetalLB::kAccepts,
             [](World& w) { return JudgePool(w, Pool("pool-a", {"203.0.113.0/27"})); },
             {}},
        // addressPoolFromCR: "pool has no prefixes defined".
        Case{"NoAddresses", MetalLB::kDenies,
             [](World& w) { return JudgePool(w, Pool("pool-b", {})); },
             {"E spec.addresses: an IPAddressPool needs at least one address (a CIDR or a "
              "range)"}},
        // addressPoolServiceAllocationsFromCR: "duplicate definition in namespaces field".
        Case{"ServiceAllocationDuplicateNamespace", MetalLB::kDenies,
             [](World& w) {
               AddressPool pool = Pool("pool-b", {"198.51.100.128/28"});
               pool.service_allocation = ServiceAllocation{5, {"web", "db", "web"}, {}, {}};
               return JudgePool(w, pool);
             },
             {R"(E spec.serviceAllocation.namespaces[2]: "web" is already listed at spec.serviceAllocation.namespaces[0])"}},
        // validateLabelSelectorDuplicate: "duplicate definition of namespaceSelectors".
        Case{"ServiceAllocationDuplicateSelector", MetalLB::kDenies,
             [](World& w) {
               AddressPool pool = Pool("pool-b", {"198.51.100.128/28"});
               LabelSelector team{{}, {{"team", "In", {"b", "a"}}}};
               LabelSelector same{{}, {{"team", "In", {"a", "b"}}}};
               pool.service_allocation = ServiceAllocation{{}, {}, {team, same}, {}};
               return JudgePool(w, pool);
             },
             {"E spec.serviceAllocation.namespaceSelectors[1]: duplicates "
              "spec.serviceAllocation.namespaceSelectors[0]"}},
        // validateLabelSelectorMatchExpressions: duplicate values in one expression.
        Case{"ServiceAllocationDuplicateSelectorValue", MetalLB::kDenies,
             [](World& w) {
               AddressPool pool = Pool("pool-b", {"198.51.100.128/28"});
               pool.service_allocation =
                   ServiceAllocation{{}, {}, {}, {{{}, {{"app", "In", {"web", "web"}}}}}};
               return JudgePool(w, pool);
             },
             {R"(E spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values[1]: "web" is already listed at spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values[0])"}},
        Case{"ServiceAllocationValid", MetalLB::kAccepts,
             [](World& w) {
               AddressPool pool = Pool("pool-b", {"198.51.100.128/28"});
               pool.service_allocation = ServiceAllocation{
                   -3, {"web"}, {Rack("a")}, {{{}, {{"app", "In", {"web", "api"}}}}}};
               return JudgePool(w, pool);
             },
             {}}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    BGPAdvertisement, MetallbParity,
    testing::Values(
        // bgpAdvertisementFromCR: validateDuplicate(ipAddressPools / peers / community).
        Case{"DuplicatePool", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.ip_address_pools = {"pool-a", "pool-a"};
               return JudgeAdvert(w, a);
             },
             {R"(E spec.ipAddressPools[1]: "pool-a" is already listed at spec.ipAddressPools[0])"}},
        Case{"DuplicatePeer", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.peers = {"router-a", "router-b", "router-a"};
               return JudgeAdvert(w, a);
             },
             {R"(E spec.peers[2]: "router-a" is already listed at spec.peers[0])"}},
        Case{"DuplicateCommunity", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.communities = {"64512:100", "64512:100"};
               return JudgeAdvert(w, a);
             },
             {R"(E spec.communities[1]: "64512:100" is already listed at spec.communities[0])"}},
        Case{"DuplicateNodeSelector", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.node_selectors = {Rack("a"), Rack("a")};
               return JudgeAdvert(w, a);
             },
             {"E spec.nodeSelectors[1]: duplicates spec.nodeSelectors[0]"}},
        Case{"DuplicatePoolSelectorExpression", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               LabelSelectorRequirement tier{"tier", "Exists", {}};
               a.ip_address_pool_selectors = {{{}, {tier, tier}}};
               return JudgeAdvert(w, a);
             },
             {"E spec.ipAddressPoolSelectors[0].matchExpressions[1]: duplicates "
              "spec.ipAddressPoolSelectors[0].matchExpressions[0]"}},
        // bgpAdvertisementFromCR: "serviceSelectors and aggregationLength are mutually
        // exclusive".
        Case{"ServiceSelectorsWithAggregation", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.service_selectors = {{{{"app", "web"}}, {}}};
               a.aggregation_length = 30;
               return JudgeAdvert(w, a);
             },
             {"E spec.aggregationLength: serviceSelectors and aggregationLength 30 exclude each "
              "other: an aggregate covers Services the selectors leave out; remove one of "
              "them"}},
        Case{"ServiceSelectorsWithDefaultAggregation", MetalLB::kAccepts,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.service_selectors = {{{{"app", "web"}}, {}}};
               a.aggregation_length = 32;
               a.aggregation_length_v6 = 128;
               return JudgeAdvert(w, a);
             },
             {}},
        // validateBGPAdvPerPool: "invalid local preference ... was already set".
        Case{"LocalPrefConflict", MetalLB::kDenies,
             [](World& w) {
               Advertisement other = Advert("adv-100");
               other.local_pref = 100;
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-200");
               a.local_pref = 200;
               a.peers = {"router-a"};
               return JudgeAdvert(w, a);
             },
             {"E spec.localPref: localPref 200 differs from localPref 100 of BGPAdvertisement "
              "adv-100, which announces IPAddressPool pool-a with the same aggregation length "
              "to a shared peer from a shared node; a route carries one LOCAL_PREF (unset "
              "counts as 0)"}},
        Case{"LocalPrefDifferentAggregation", MetalLB::kAccepts,
             [](World& w) {
               Advertisement other = Advert("adv-100");
               other.local_pref = 100;
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-200");
               a.local_pref = 200;
               a.aggregation_length = 28;
               return JudgeAdvert(w, a);
             },
             {}},
        Case{"LocalPrefDisjointPeers", MetalLB::kAccepts,
             [](World& w) {
               Advertisement other = Advert("adv-100");
               other.local_pref = 100;
               other.peers = {"router-b"};
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-200");
               a.local_pref = 200;
               a.peers = {"router-a"};
               return JudgeAdvert(w, a);
             },
             {}},
        Case{"LocalPrefDisjointNodes", MetalLB::kAccepts,
             [](World& w) {
               Advertisement other = Advert("adv-100");
               other.local_pref = 100;
               other.node_selectors = {Rack("b")};
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-200");
               a.local_pref = 200;
               a.node_selectors = {Rack("a")};
               return JudgeAdvert(w, a);
             },
             {}},
        Case{"LocalPrefWithServiceSelectors", MetalLB::kAccepts,
             [](World& w) {
               Advertisement other = Advert("adv-100");
               other.local_pref = 100;
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-200");
               a.local_pref = 200;
               a.service_selectors = {{{{"app", "web"}}, {}}};
               return JudgeAdvert(w, a);
             },
             {}},
        Case{"AsPathPrependConflict", MetalLB::kDenies,
             [](World& w) {
               Advertisement other = Advert("adv-2");
               other.as_path_prepend = 2;
               w.objects.advertisements = {other};
               Advertisement a = Advert("adv-3");
               a.as_path_prepend = 3;
               return JudgeAdvert(w, a);
             },
             {"E spec.asPathPrepend: asPathPrepend 3 differs from asPathPrepend 2 of "
              "BGPAdvertisement adv-2, which announces IPAddressPool pool-a with the same "
              "aggregation length to a shared peer from a shared node; a route carries one AS "
              "path"}},
        // CRD: asPathPrepend Minimum=1 Maximum=10.
        Case{"AsPathPrependOutOfRange", MetalLB::kDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               a.as_path_prepend = 11;
               return JudgeAdvert(w, a);
             },
             {"E spec.asPathPrepend: asPathPrepend 11 is out of range 1..10"}},
        // validateBGPAdvPerPool: a range's widest CIDR decides; MetalLB accepts 30 here.
        Case{"AggregationOnRangeWarns", MetalLB::kAccepts,
             [](World& w) {
               w.objects.pools = {Pool("pool-a", {"198.51.100.10-198.51.100.20"})};
               Advertisement a = Advert("adv");
               a.aggregation_length = 30;
               return JudgeAdvert(w, a);
             },
             {"W spec.aggregationLength: aggregationLength 30 aggregates 198.51.100.20/32 of the "
              "range 198.51.100.10-198.51.100.20 in IPAddressPool pool-a into 198.51.100.20/30, "
              "which covers addresses outside the pool"}},
        Case{"AggregationWiderThanRange", MetalLB::kDenies,
             [](World& w) {
               w.objects.pools = {Pool("pool-a", {"198.51.100.10-198.51.100.20"})};
               Advertisement a = Advert("adv");
               a.aggregation_length = 29;
               return JudgeAdvert(w, a);
             },
             {"E spec.aggregationLength: aggregationLength 29 is shorter than the prefix length "
              "30 of 198.51.100.12/30 (of 198.51.100.10-198.51.100.20) in IPAddressPool pool-a; "
              "the aggregate would cover addresses outside the pool"}},
        // bgpcomm's own rule (issue 15 item 5): MetalLB admits and FRR drops the attribute.
        Case{"CommunitiesDoNotFitOneUpdate", MetalLB::kAcceptsBgpcommDenies,
             [](World& w) {
               Advertisement a = Advert("adv");
               for (int i = 0; i < 330; ++i) {
                 a.communities.push_back("large:64512:1:" + std::to_string(i));
               }
               return JudgeAdvert(w, a);
             },
             {"E spec.communities: 0 standard and 330 large communities take 3964 octets; with "
              "the other path attributes and one prefix an UPDATE holds at most 3928 octets of "
              "communities (RFC 4271 §4.1: 4096-octet messages), so no route could be "
              "announced"}},
        Case{"CommunitiesFitOneUpdate", MetalLB::kAccepts,
             [](World& w) {
               Advertisement a = Advert("adv");
               for (int i = 0; i < 327; ++i) {
                 a.communities.push_back("large:64512:1:" + std::to_string(i));
               }
               return JudgeAdvert(w, a);
             },
             {}}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    BGPPeer, MetallbParity,
    testing::Values(
        // checkFRRPeersCompatible: "peer ... already exists, FRR mode doesn't support
        // duplicate BGPPeers selecting the same node".
        Case{"SameAddressOnCommonNode", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.2");
               p.node_selectors = {Rack("a")};
               return JudgePeer(w, p);
             },
             {"E spec.peerAddress: BGPPeer router-a selects a node this one selects; both peer "
              "with 198.51.100.2, and a node has one session per address"}},
        Case{"SameAddressOnDisjointNodes", MetalLB::kAccepts,
             [](World& w) {
               w.objects.peers[0].node_selectors = {Rack("b")};
               Peer p = RouterPeer("router-c", "198.51.100.2");
               p.node_selectors = {Rack("a")};
               return JudgePeer(w, p);
             },
             {}},
        Case{"SameAddressInAnotherVrf", MetalLB::kAccepts,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.2");
               p.vrf = "red";
               p.my_asn = 64600;
               return JudgePeer(w, p);
             },
             {"W spec.vrf: bgpcomm's speaker cannot peer from a VRF (red) yet; no session is "
              "opened for this BGPPeer"}},
        Case{"DifferentMyAsnOnCommonNode", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.my_asn = 64600;
               p.node_selectors = {Rack("b")};
               return JudgePeer(w, p);
             },
             {"E spec.myASN: BGPPeer router-a selects a node this one selects; its myASN is "
              "64512 and this one's 64600; peers on one node (and VRF) speak as one ASN",
              "E spec.myASN: BGPPeer router-b selects a node this one selects; its myASN is "
              "64512 and this one's 64600; peers on one node (and VRF) speak as one ASN"}},
        Case{"DifferentRouterIdOnCommonNode", MetalLB::kDenies,
             [](World& w) {
               w.objects.peers.pop_back();
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.router_id = "198.18.0.1";
               return JudgePeer(w, p);
             },
             {"E spec.routerID: BGPPeer router-a selects a node this one selects; its routerID "
              "is unset and this one's 198.18.0.1; peers on one node share one router ID"}},
        // peerFromCR: "peer has both Address and Interface specified".
        Case{"AddressAndInterface", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.interface = "eth1";
               return JudgePeer(w, p);
             },
             {"E spec.interface: peerAddress and interface are mutually exclusive; set one of "
              "them"}},
        Case{"InterfaceWithoutAddress", MetalLB::kAccepts,
             [](World& w) {
               Peer p = RouterPeer("router-c", "");
               p.interface = "eth1";
               return JudgePeer(w, p);
             },
             {"W spec.interface: bgpcomm's speaker cannot peer over an interface (unnumbered "
              "BGP) yet; no session is opened for this BGPPeer"}},
        // passwordFromSecretForPeer: "secret type mismatch", "password not specified".
        Case{"PasswordSecretWrongType", MetalLB::kDenies,
             [](World& w) {
               w.objects.secrets = {{Meta("bgp-auth"), "Opaque", {"password"}}};
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.password_secret.name = "bgp-auth";
               return JudgePeer(w, p);
             },
             {"E spec.passwordSecret: Secret bgp-auth is of type Opaque; a BGP password is read "
              "only from a Secret of type kubernetes.io/basic-auth"}},
        Case{"PasswordSecretWithoutPassword", MetalLB::kDenies,
             [](World& w) {
               w.objects.secrets = {{Meta("bgp-auth"), "kubernetes.io/basic-auth", {"username"}}};
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.password_secret.name = "bgp-auth";
               return JudgePeer(w, p);
             },
             {"E spec.passwordSecret: Secret bgp-auth has no password key; the BGP password is "
              "read from its data.password"}},
        Case{"PasswordSecretRight", MetalLB::kAccepts,
             [](World& w) {
               w.objects.secrets = {{Meta("bgp-auth"), "kubernetes.io/basic-auth", {"password"}}};
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.password_secret.name = "bgp-auth";
               return JudgePeer(w, p);
             },
             {}},
        // CEL on connectTime.
        Case{"ConnectTimeFraction", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.connect_time = "1500ms";
               return JudgePeer(w, p);
             },
             {"E spec.connectTime: connectTime 1500ms must be a whole number of seconds"}},
        Case{"ConnectTimeTooLong", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.connect_time = "18h20m";
               return JudgePeer(w, p);
             },
             {"E spec.connectTime: connectTime 18h20m is out of range 1s..65535s"}},
        // CRD: localASN Minimum=1.
        Case{"LocalAsnZero", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.local_asn = 0;
               return JudgePeer(w, p);
             },
             {"E spec.localASN: localASN 0 is out of range 1..4294967295"}},
        // The webhook warns "disable mp is deprecated".
        Case{"DisableMpWarns", MetalLB::kAccepts,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.disable_mp = true;
               return JudgePeer(w, p);
             },
             {"W spec.disableMP: disableMP is deprecated in MetalLB; the session carries only "
              "its own address family unless dualStackAddressFamily is set"}},
        // Every webhook: "resource must be created in metallb-system namespace".
        Case{"OutsideNamespace", MetalLB::kDenies,
             [](World& w) {
               Peer p = RouterPeer("router-c", "198.51.100.10");
               p.meta.namespace_name = "default";
               return ValidatePeer(p, w.Context(), {});
             },
             {"E metadata.namespace: resource must be created in metallb-system namespace, not "
              "in default (the namespace bgpcomm serves)"}},
        Case{"OutsideConfiguredNamespace", MetalLB::kDenies,
             [](World& w) {
               AdmissionOptions options;
               options.configured_namespace = "bgp";
               return ValidatePool(Pool("pool-b", {"198.51.100.128/28"}), w.Context(), options);
             },
             {"E metadata.namespace: resource must be created in bgp namespace, not in "
              "metallb-system (the namespace bgpcomm serves)"}}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    BFDProfile, MetallbParity,
    testing::Values(
        // bfdprofile_webhook validateBFDDelete: "failed to delete BFDProfile ..., used by
        // BGPPeer ...".
        Case{"DeleteInUse", MetalLB::kDenies,
             [](World& w) {
               w.objects.peers[1].bfd_profile = "fast";
               BfdProfile profile;
               profile.meta = Meta("fast");
               return ValidateBfdProfileDelete(profile, w.Context(), {});
             },
             {"E metadata.name: BFDProfile fast is used by BGPPeer router-b; change the peers "
              "before deleting it"}},
        Case{"DeleteUnused", MetalLB::kAccepts,
             [](World& w) {
               BfdProfile profile;
               profile.meta = Meta("fast");
               return ValidateBfdProfileDelete(profile, w.Context(), {});
             },
             {}},
        // CRD bounds.
        Case{"Ranges", MetalLB::kDenies,
             [](World&) {
               BfdProfile profile;
               profile.meta = Meta("fast");
               profile.receive_interval = 9;
               profile.transmit_interval = 60001;
               profile.detect_multiplier = 1;
               profile.echo_interval = 10;
               profile.minimum_ttl = 255;
               return ValidateBfdProfile(profile, {});
             },
             {"E spec.receiveInterval: receiveInterval 9 is out of range 10..60000 ms",
              "E spec.transmitInterval: transmitInterval 60001 is out of range 10..60000 ms",
              "E spec.detectMultiplier: detectMultiplier 1 is out of range 2..255",
              "E spec.minimumTtl: minimumTtl 255 is out of range 1..254"}},
        Case{"EchoModeWarns", MetalLB::kAccepts,
             [](World&) {
               BfdProfile profile;
               profile.meta = Meta("fast");
               profile.echo_mode = true;
               return ValidateBfdProfile(profile, {});
             },
             {"W spec.echoMode: the echo function is not implemented: bgpcomm-speaker runs no "
              "BFD for the peers naming this profile; set echoMode to false (asynchronous mode "
              "detects a failure within transmitInterval x detectMultiplier)"}},
        Case{"Bounds", MetalLB::kAccepts,
             [](World&) {
               BfdProfile profile;
               profile.meta = Meta("fast");
               profile.receive_interval = 10;
               profile.transmit_interval = 60000;
               profile.detect_multiplier = 255;
               profile.minimum_ttl = 1;
               return ValidateBfdProfile(profile, {});
             },
             {}}),
    [](const auto& info) { return info.param.name; });

// A peer naming a BFDProfile that does not exist: MetalLB's webhook admits it and its
// controller reports a transient error; bgpcomm denies it, as it denies a dangling alias,
// and only warns under --unresolved-aliases=warn (community/README.md).
TEST(MetallbParityDifference, MissingBfdProfile) {
  World world;
  Peer peer = RouterPeer("router-c", "198.51.100.10");
  peer.bfd_profile = "fast";
  EXPECT_EQ(Lines(ValidatePeer(peer, world.Context(), {})),
            std::vector<std::string>{"E spec.bfdProfile: BFDProfile \"fast\" does not exist in "
                                     "namespace metallb-system; create the BFDProfile first"});
  AdmissionOptions warn;
  warn.unresolved = UnresolvedPolicy::kWarn;
  EXPECT_EQ(Lines(ValidatePeer(peer, world.Context(), warn)),
            std::vector<std::string>{"W spec.bfdProfile: BFDProfile \"fast\" does not exist in "
                                     "namespace metallb-system; the session runs without BFD "
                                     "until it is created"});
  BfdProfile fast;
  fast.meta = Meta("fast");
  world.objects.bfd_profiles = {fast};
  EXPECT_TRUE(ValidatePeer(peer, world.Context(), {}).items.empty());
}

TEST(CommunityAttributeOctets, HeadersAndExtendedLength) {
  EXPECT_EQ(CommunityAttributeOctets(0, 0), 0u);
  EXPECT_EQ(CommunityAttributeOctets(1, 0), 7u);    // 3 + 4
  EXPECT_EQ(CommunityAttributeOctets(63, 0), 255u);  // 3 + 252
  EXPECT_EQ(CommunityAttributeOctets(64, 0), 260u);  // 4 + 256: extended length
  EXPECT_EQ(CommunityAttributeOctets(1, 1), 22u);   // 7 + 3 + 12
  EXPECT_EQ(kMaxCommunityOctets, 3928u);
}

}  // namespace
}  // namespace bgpcomm::community
