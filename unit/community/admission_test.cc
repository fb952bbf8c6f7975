#include "community/admission.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace bgpcomm::community {
namespace {

// ---- The walkthrough (examples/walkthrough/), as the decoders would fill the structs. ----

constexpr char kNamespace[] = "metallb-system";
constexpr char kPrimaryAnnotation[] =
    R"({"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]})";
constexpr char kBackupAnnotation[] = R"({"from":["backup-route"],"communities":["64512:200"]})";

ObjectMeta Meta(std::string name, std::string namespace_name = kNamespace) {
  ObjectMeta meta;
  meta.name = std::move(name);
  meta.namespace_name = std::move(namespace_name);
  return meta;
}

CommunityObject MyCommunities() {
  return {Meta("my-communities"),
          {{"primary-route", "64512:100"},
           {"backup-route", "64512:200"},
           {"blackhole", "64512:666"},
           {"region-us-east", "large:64512:1:100"}}};
}

AddressPool ProductionPool() {
  AddressPool pool;
  pool.meta = Meta("production-pool");
  pool.addresses = {"203.0.113.0/28"};
  return pool;
}

Advertisement Advert(std::string name, std::vector<std::string> communities,
                     std::string annotation = "") {
  Advertisement advertisement;
  advertisement.meta = Meta(std::move(name));
  advertisement.ip_address_pools = {"production-pool"};
  advertisement.communities = std::move(communities);
  advertisement.aggregation_length = 32;
  if (!annotation.empty()) {
    advertisement.meta.annotations[std::string(kResolvedAnnotation)] = annotation;
  }
  return advertisement;
}

Advertisement PrimaryAdvert() {
  return Advert("primary-advert", {"primary-route", "region-us-east"}, kPrimaryAnnotation);
}
Advertisement BackupAdvert() {
  return Advert("backup-advert", {"backup-route"}, kBackupAnnotation);
}

Peer UpstreamRouter() {
  Peer peer;
  peer.meta = Meta("upstream-router");
  peer.my_asn = 64512;
  peer.peer_asn = 64513;
  peer.peer_address = "198.51.100.2";
  return peer;
}

// A namespace and the context the rules see.
struct World {
  NamespaceObjects objects;
  AliasTable aliases;

  NamespaceContext Context() {
    aliases = AliasTable::Build(objects.communities);
    return {objects, aliases};
  }
};

World Walkthrough() {
  World world;
  world.objects.namespace_name = kNamespace;
  world.objects.communities = {MyCommunities()};
  world.objects.pools = {ProductionPool()};
  world.objects.advertisements = {PrimaryAdvert(), BackupAdvert()};
  world.objects.peers = {UpstreamRouter()};
  return world;
}

// "E field: message" / "W field: message", in order.
std::vector<std::string> Lines(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics.items) {
    out.push_back((d.severity == Severity::kError ? "E " : "W ") + d.ToString());
  }
  return out;
}

const std::string kShadow =
    R"(W spec.communities[2].name: alias "blackhole" (64512:666) shadows the well-known community blackhole (65535:666) in namespace metallb-system)";
const std::string kMerged =
    "W spec.communities: BGPAdvertisement backup-advert selects the same pool production-pool, "
    "nodes and peers with different communities [64512:200]; their communities are merged on "
    "every route";

// ---- The walkthrough is accepted, with the warnings a user should see. ----

TEST(Walkthrough, CommunityCreateWarnsOnlyAboutShadowing) {
  World world = Walkthrough();
  world.objects.communities.clear();  // CREATE: not stored yet
  auto diagnostics = ValidateCommunity(MyCommunities(), nullptr, world.Context(), {});
  EXPECT_EQ(Lines(diagnostics), std::vector<std::string>{kShadow});
}

TEST(Walkthrough, CommunityReappliedUnchanged) {
  World world = Walkthrough();
  CommunityObject old = MyCommunities();
  auto diagnostics = ValidateCommunity(MyCommunities(), &old, world.Context(), {});
  EXPECT_EQ(Lines(diagnostics), std::vector<std::string>{kShadow});
}

TEST(Walkthrough, PrimaryAdvertStoresItsResolution) {
  World world = Walkthrough();
  Advertisement submitted = PrimaryAdvert();
  submitted.meta.annotations.clear();
  world.objects.advertisements = {BackupAdvert()};  // CREATE after backup-advert
  auto decision = ValidateAdvertisement(submitted, nullptr, world.Context(), {});
  EXPECT_EQ(Lines(decision.diagnostics), std::vector<std::string>{kMerged});
  EXPECT_EQ(decision.stored.Annotation(), kPrimaryAnnotation);
  EXPECT_EQ(decision.stored.spec_communities, submitted.communities);
}

TEST(Walkthrough, BackupAdvertWarnsAboutPrimary) {
  World world = Walkthrough();
  Advertisement submitted = BackupAdvert();
  auto decision = ValidateAdvertisement(submitted, &submitted, world.Context(), {});
  EXPECT_EQ(Lines(decision.diagnostics),
            std::vector<std::string>{
                "W spec.communities: BGPAdvertisement primary-advert selects the same pool "
                "production-pool, nodes and peers with different communities [64512:100, "
                "large:64512:1:100]; their communities are merged on every route"});
  EXPECT_EQ(decision.stored.Annotation(), kBackupAnnotation);
}

TEST(Walkthrough, ManyOverlapsAreOneWarning) {
  World world = Walkthrough();
  for (int i = 0; i < 5; ++i) {
    Advertisement other = BackupAdvert();
    other.meta.name = "extra-" + std::to_string(i);
    world.objects.advertisements.push_back(other);
  }
  Advertisement submitted = PrimaryAdvert();
  auto decision = ValidateAdvertisement(submitted, &submitted, world.Context(), {});
  EXPECT_EQ(Lines(decision.diagnostics),
            std::vector<std::string>{
                "W spec.communities: 6 BGPAdvertisements select the same pools, nodes and "
                "peers with different communities: backup-advert [64512:200]; extra-0 "
                "[64512:200]; extra-1 [64512:200]; and 3 more; their communities are merged on "
                "every route"});
}

TEST(Walkthrough, PoolAndPeerAreClean) {
  World world = Walkthrough();
  EXPECT_TRUE(ValidatePool(ProductionPool(), world.Context(), {}).items.empty());
  EXPECT_TRUE(ValidatePeer(UpstreamRouter(), world.Context(), {}).items.empty());
}

// ---- Community CREATE/UPDATE ----

struct CommunityCase {
  std::string name;
  std::function<void(World&, CommunityObject& object, std::optional<CommunityObject>& old)> edit;
  std::vector<std::string> expected;
};

class CommunityRules : public testing::TestWithParam<CommunityCase> {};

TEST_P(CommunityRules, Exact) {
  World world = Walkthrough();
  CommunityObject object = MyCommunities();
  std::optional<CommunityObject> old = MyCommunities();
  GetParam().edit(world, object, old);
  auto diagnostics =
      ValidateCommunity(object, old ? &*old : nullptr, world.Context(), AdmissionOptions{});
  EXPECT_EQ(Lines(diagnostics), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CommunityRules,
    testing::
        Values(CommunityCase{"EmptyName",
                             [](World&, CommunityObject& o, auto&) {
                               o.aliases.push_back({"", "1:1"});
                             },
                             {kShadow, "E spec.communities[4].name: name is empty"}},
               CommunityCase{
                   "NameWithColon",
                   [](World&, CommunityObject& o, auto&) {
                     o.aliases.push_back({"a:b", "1:1"});
                   },
                   {kShadow,
                    R"(E spec.communities[4].name: "a:b" contains ':'; an entry with ':' is read as a community value, never as an alias)"}},
               CommunityCase{
                   "DuplicateInObject",
                   [](World&, CommunityObject& o, auto&) {
                     o.aliases.push_back({"backup-route", "64512:200"});
                   },
                   {kShadow,
                    R"(E spec.communities[4].name: "backup-route" is already defined by spec.communities[1])"}},
               CommunityCase{
                   "DuplicateAcrossNamespace",
                   [](World& w, CommunityObject& o, auto& old) {
                     w.objects.communities.push_back(
                         {Meta("more-communities"), {{"edge", "64512:300"}}});
                     o = {Meta("other-communities"), {{"edge", "64512:301"}}};
                     old.reset();
                   },
                   {R"(E spec.communities[0].name: "edge" is already defined by Community more-communities in namespace metallb-system; alias names are unique per namespace)"}},
               CommunityCase{
                   "InvalidValues",
                   [](World&, CommunityObject& o, auto&) {
                     o.aliases.push_back({"too-big", "64512:70000"});
                     o.aliases.push_back({"shouty", "LARGE:1:2:3"});
                     o.aliases.push_back({"typo", "no-exprot"});
                   },
                   {kShadow,
                    R"(E spec.communities[4].value: "64512:70000": second field 70000 exceeds 65535)",
                    R"(E spec.communities[5].value: "LARGE:1:2:3": the prefix LARGE must be lowercase "large")",
                    R"(E spec.communities[6].value: "no-exprot": not a community value (A:B or large:A:B:C) or a well-known name; did you mean "no-export"?)"}},
               CommunityCase{
                   "ValueWarnings",
                   [](World&, CommunityObject& o, auto&) {
                     o.aliases.push_back({"padded", "064512:0300"});
                     o.aliases.push_back({"reserved", "0:1"});
                     o.aliases.push_back({"unassigned", "65535:99"});
                     o.aliases.push_back({"edge-no-export", "no-export"});
                   },
                   {kShadow, R"(W spec.communities[4].value: "064512:0300" is read as 64512:300)",
                    "W spec.communities[5].value: 0:1 is in the reserved range 0:0-0:65535 (RFC "
                    "1997)",
                    "W spec.communities[6].value: 65535:99 is in the well-known range "
                    "65535:0-65535:65535 (RFC 1997) but is not an assigned well-known community"}},
               CommunityCase{
                   "AliasEqualToItsWellKnownValueDoesNotShadow",
                   [](World&, CommunityObject& o, auto&) { o.aliases[2].value = "65535:666"; },
                   {}},
               CommunityCase{
                   "RemovingReferencedAliasDenied",
                   [](World&, CommunityObject& o, auto&) { o.aliases.erase(o.aliases.begin()); },
                   {R"(W spec.communities[1].name: alias "blackhole" (64512:666) shadows the well-known community blackhole (65535:666) in namespace metallb-system)",
                    R"(E spec.communities: alias "primary-route" is still referenced by BGPAdvertisement primary-advert; removing or renaming it would leave it unresolved; change the advertisements first)"}},
               CommunityCase{
                   "RenamingReferencedAliasDenied",
                   [](World&, CommunityObject& o, auto&) { o.aliases[1].name = "secondary-route"; },
                   {kShadow,
                    R"(E spec.communities: alias "backup-route" is still referenced by BGPAdvertisement backup-advert; removing or renaming it would leave it unresolved; change the advertisements first)"}},
               CommunityCase{
                   "RemovingAliasReferencedByTwo",
                   [](World& w, CommunityObject& o, auto&) {
                     w.objects.advertisements.push_back(Advert("third-advert", {"backup-route"}));
                     o.aliases.erase(o.aliases.begin() + 1);
                   },
                   {R"(W spec.communities[1].name: alias "blackhole" (64512:666) shadows the well-known community blackhole (65535:666) in namespace metallb-system)",
                    R"(E spec.communities: alias "backup-route" is still referenced by BGPAdvertisements backup-advert, third-advert; removing or renaming it would leave them unresolved; change the advertisements first)"}},
               CommunityCase{
                   "RemovingAliasDefinedElsewhereAllowed",
                   [](World& w, CommunityObject& o, auto&) {
                     w.objects.communities.push_back(
                         {Meta("extra-communities"), {{"primary-route", "64512:100"}}});
                     o.aliases.erase(o.aliases.begin());
                   },
                   {R"(W spec.communities[1].name: alias "blackhole" (64512:666) shadows the well-known community blackhole (65535:666) in namespace metallb-system)"}},
               CommunityCase{"RemovingUnreferencedAliasAllowed",
                             [](World&, CommunityObject& o, auto&) {
                               o.aliases.erase(o.aliases.begin() + 2);
                             },
                             {}},
               CommunityCase{
                   "ChangingReferencedValueWarns",
                   [](World&, CommunityObject& o, auto&) { o.aliases[1].value = "64512:201"; },
                   {kShadow,
                    R"(W spec.communities[1].value: alias "backup-route" changes from 64512:200 to 64512:201; the resolver will re-resolve 1 advertisement(s): backup-advert)"}},
               CommunityCase{
                   "ChangingValueReferencedByTwo",
                   [](World& w, CommunityObject& o, auto&) {
                     w.objects.advertisements.push_back(
                         Advert("another-advert", {"64512:1", "region-us-east"}));
                     o.aliases[3].value = "large:64512:1:101";
                   },
                   {kShadow,
                    R"(W spec.communities[3].value: alias "region-us-east" changes from large:64512:1:100 to large:64512:1:101; the resolver will re-resolve 2 advertisement(s): another-advert, primary-advert)"}},
               CommunityCase{
                   "CanonicalisingAValueIsNoChange",
                   [](World&, CommunityObject& o, auto&) { o.aliases[1].value = "064512:200"; },
                   {R"(W spec.communities[1].value: "064512:200" is read as 64512:200)", kShadow}},
               CommunityCase{
                   "RemovingShadowingAliasFallsBackToWellKnown",
                   [](World& w, CommunityObject& o, auto&) {
                     w.objects.advertisements.push_back(
                         Advert("drop-advert", {"blackhole", "no-export"}));
                     o.aliases.erase(o.aliases.begin() + 2);
                   },
                   {R"(W spec.communities: alias "blackhole" changes from 64512:666 to 65535:666 (the well-known blackhole); the resolver will re-resolve 1 advertisement(s): drop-advert)"}},
               CommunityCase{
                   "CreatingShadowingAliasChangesWellKnownReferences",
                   [](World& w, CommunityObject& o, auto& old) {
                     w.objects.advertisements.push_back(Advert("drop-advert", {"no-advertise"}));
                     o = {Meta("edge-communities"), {{"no-advertise", "64512:9"}}};
                     old.reset();
                   },
                   {R"(W spec.communities[0].name: alias "no-advertise" (64512:9) shadows the well-known community no-advertise (65535:65282) in namespace metallb-system)", R"(W spec.communities[0].value: alias "no-advertise" changes from 65535:65282 to 64512:9; the resolver will re-resolve 1 advertisement(s): drop-advert)"}},
               CommunityCase{
                   "InPlaceAdvertisementsReferenceTheirFrom",
                   [](World& w, CommunityObject& o, auto&) {
                     w.objects.advertisements = {Advert(
                         "primary-advert", {"64512:100", "large:64512:1:100"}, kPrimaryAnnotation)};
                     o.aliases.erase(o.aliases.begin() + 3);
                   },
                   {kShadow,
                    R"(E spec.communities: alias "region-us-east" is still referenced by BGPAdvertisement primary-advert; removing or renaming it would leave it unresolved; change the advertisements first)"}},
               CommunityCase{"OutsideConfiguredNamespace",
                             [](World&, CommunityObject& o, auto& old) {
                               o.meta = Meta("edge-communities", "default");
                               o.aliases = {{"edge", "64512:1"}};
                               old.reset();
                             },
                             {"E metadata.namespace: resource must be created in metallb-system "
                              "namespace, not in default (the namespace bgpcomm serves)"}}),
    [](const auto& info) { return info.param.name; });

TEST(CommunityDelete, DeniedNamingAdvertisements) {
  World world = Walkthrough();
  auto diagnostics = ValidateCommunityDelete(MyCommunities(), world.Context(), {});
  EXPECT_EQ(
      Lines(diagnostics),
      (std::vector<std::string>{
          R"(E spec.communities: alias "primary-route" is still referenced by BGPAdvertisement primary-advert; deleting this Community would leave it unresolved; change the advertisements first)",
          R"(E spec.communities: alias "backup-route" is still referenced by BGPAdvertisement backup-advert; deleting this Community would leave it unresolved; change the advertisements first)",
          R"(E spec.communities: alias "region-us-east" is still referenced by BGPAdvertisement primary-advert; deleting this Community would leave it unresolved; change the advertisements first)"}));
}

TEST(CommunityDelete, AllowedWhenUnreferenced) {
  World world = Walkthrough();
  world.objects.advertisements.clear();
  EXPECT_TRUE(ValidateCommunityDelete(MyCommunities(), world.Context(), {}).items.empty());
}

TEST(CommunityDelete, AllowedWhenAnotherCommunityDefinesTheAliases) {
  World world = Walkthrough();
  world.objects.communities.push_back({Meta("copy"),
                                       {{"primary-route", "64512:100"},
                                        {"backup-route", "64512:200"},
                                        {"region-us-east", "large:64512:1:100"}}});
  EXPECT_TRUE(ValidateCommunityDelete(MyCommunities(), world.Context(), {}).items.empty());
}

TEST(CommunityDelete, UnresolvedReferencesDoNotBlock) {
  World world = Walkthrough();
  world.objects.communities.clear();  // primary-advert was admitted under warn, unresolved
  CommunityObject other{Meta("other"), {{"unrelated", "1:1"}}};
  world.objects.communities.push_back(other);
  EXPECT_TRUE(ValidateCommunityDelete(other, world.Context(), {}).items.empty());
}

// ---- BGPAdvertisement ----

struct AdvertCase {
  std::string name;
  std::function<void(World&, Advertisement&, AdmissionOptions&)> edit;
  std::vector<std::string> expected;
};

class AdvertisementRules : public testing::TestWithParam<AdvertCase> {};

// Each case starts from primary-advert being applied again into a namespace where
// backup-advert selects other nodes (rack b, where the cluster has none), so the
// walkthrough's merge warning and MetalLB's localPref conflict stay out.
TEST_P(AdvertisementRules, Exact) {
  World world = Walkthrough();
  world.objects.advertisements[1].node_selectors = {{{{"rack", "b"}}, {}}};
  world.objects.nodes = std::vector<NodeSummary>{{"node-a", {{"rack", "a"}}}};
  Advertisement object = PrimaryAdvert();
  object.meta.annotations.clear();
  AdmissionOptions options;
  GetParam().edit(world, object, options);
  auto decision = ValidateAdvertisement(object, nullptr, world.Context(), options);
  EXPECT_EQ(Lines(decision.diagnostics), GetParam().expected);
}

Peer Ibgp(std::string name) {
  Peer peer = UpstreamRouter();
  peer.meta.name = std::move(name);
  peer.peer_asn = 64512;
  peer.peer_address = "198.51.100.6";
  return peer;
}

INSTANTIATE_TEST_SUITE_P(
    Table, AdvertisementRules,
    testing::Values(
        AdvertCase{"Clean", [](World&, Advertisement&, AdmissionOptions&) {}, {}},
        AdvertCase{
            "TypoDeniedWithSuggestion",
            [](World&, Advertisement& a, AdmissionOptions&) { a.communities[0] = "primary-rout"; },
            {R"(E spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; did you mean "primary-route"?)"}},
        AdvertCase{
            "TypoWarnedUnderWarnPolicy",
            [](World&, Advertisement& a, AdmissionOptions& o) {
              a.communities[0] = "primary-rout";
              o.unresolved = UnresolvedPolicy::kWarn;
            },
            {R"(W spec.communities[0]: "primary-rout" is not a community value, well-known name or alias defined in namespace metallb-system; it stays unresolved until a Community defines it; did you mean "primary-route"?)"}},
        AdvertCase{
            "InvalidLiteral",
            [](World&, Advertisement& a, AdmissionOptions&) { a.communities = {"64512:70000"}; },
            {R"(E spec.communities[0]: "64512:70000": second field 70000 exceeds 65535)"}},
        AdvertCase{"AggregationLengthZero",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length = 0; },
                   {"E spec.aggregationLength: aggregationLength 0 would announce a default route "
                    "(0.0.0.0/0); it must be 1..32"}},
        AdvertCase{"AggregationLengthTooLong",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length = 33; },
                   {"E spec.aggregationLength: aggregationLength 33 is out of range 1..32"}},
        AdvertCase{"AggregationLengthNegative",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length = -1; },
                   {"E spec.aggregationLength: aggregationLength -1 is out of range 1..32"}},
        AdvertCase{
            "AggregationLengthV6Zero",
            [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length_v6 = 0; },
            {"E spec.aggregationLengthV6: aggregationLengthV6 0 would announce a default route "
             "(::/0); it must be 1..128"}},
        AdvertCase{
            "AggregationLengthV6TooLong",
            [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length_v6 = 129; },
            {"E spec.aggregationLengthV6: aggregationLengthV6 129 is out of range 1..128"}},
        AdvertCase{"AggregationShorterThanPool",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length = 24; },
                   {"E spec.aggregationLength: aggregationLength 24 is shorter than the prefix "
                    "length 28 of 203.0.113.0/28 in IPAddressPool production-pool; the aggregate "
                    "would cover addresses outside the pool"}},
        AdvertCase{"AggregationEqualToPoolPrefix",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.aggregation_length = 28; },
                   {}},
        AdvertCase{
            "AggregationAgainstRangeCover",
            [](World& w, Advertisement& a, AdmissionOptions&) {
              w.objects.pools[0].addresses = {"203.0.113.0/28", "198.51.100.1-198.51.100.2",
                                              "2001:db8::/64"};
              a.aggregation_length = 28;
              a.aggregation_length_v6 = 56;
            },
            {"E spec.aggregationLength: aggregationLength 28 is shorter than the prefix length 32 "
             "of 198.51.100.1/32 (of 198.51.100.1-198.51.100.2) in IPAddressPool production-pool; "
             "the aggregate would cover addresses outside the pool",
             "E spec.aggregationLengthV6: aggregationLengthV6 56 is shorter than the prefix "
             "length 64 of 2001:db8::/64 in IPAddressPool production-pool; the aggregate would "
             "cover addresses outside the pool"}},
        AdvertCase{"NoPoolsSelectsEveryPool",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     AddressPool other = ProductionPool();
                     other.meta.name = "small-pool";
                     other.addresses = {"192.0.2.128/30"};
                     w.objects.pools.push_back(other);
                     a.ip_address_pools.clear();
                     a.aggregation_length = 28;
                   },
                   {"E spec.aggregationLength: aggregationLength 28 is shorter than the prefix "
                    "length 30 of 192.0.2.128/30 in IPAddressPool small-pool; the aggregate would "
                    "cover addresses outside the pool"}},
        AdvertCase{"PoolSelectorsSelect",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.pools[0].meta.labels = {{"tier", "prod"}};
                     AddressPool other = ProductionPool();
                     other.meta.name = "lab-pool";
                     other.addresses = {"192.0.2.0/30"};
                     w.objects.pools.push_back(other);
                     a.ip_address_pools.clear();
                     a.ip_address_pool_selectors = {{{{"tier", "prod"}}, {}}};
                     a.aggregation_length = 28;
                   },
                   {}},
        AdvertCase{
            "MissingPoolAndPeer",
            [](World&, Advertisement& a, AdmissionOptions&) {
              a.ip_address_pools.push_back("staging-pool");
              a.peers = {"upstream-router", "backup-router"};
            },
            {R"(W spec.ipAddressPools[1]: IPAddressPool "staging-pool" does not exist in namespace metallb-system; nothing is announced from it until it is created)",
             R"(W spec.peers[1]: BGPPeer "backup-router" does not exist in namespace metallb-system; nothing is announced to it until it is created)"}},
        AdvertCase{
            "BadSelectors",
            [](World&, Advertisement& a, AdmissionOptions&) {
              a.node_selectors = {{{}, {{"rack", "Equals", {"a"}}}}};
              a.ip_address_pool_selectors = {{{}, {{"tier", "In", {}}}}};
            },
            {"E spec.ipAddressPoolSelectors[0].matchExpressions[0].values: operator In needs at "
             "least one value",
             R"(E spec.nodeSelectors[0].matchExpressions[0].operator: operator "Equals" is not one of In, NotIn, Exists, DoesNotExist)"}},
        AdvertCase{"LocalPrefToEbgpOnly",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.local_pref = 100; },
                   {"W spec.localPref: localPref is sent only on iBGP sessions, and every selected "
                    "BGPPeer is eBGP: upstream-router (myASN 64512, peerASN 64513); no peer "
                    "receives it"}},
        AdvertCase{"LocalPrefWithAnIbgpPeer",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.peers.push_back(Ibgp("route-reflector"));
                     a.local_pref = 100;
                   },
                   {}},
        AdvertCase{"LocalPrefToSelectedEbgpPeers",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.peers.push_back(Ibgp("route-reflector"));
                     Peer dynamic = UpstreamRouter();
                     dynamic.meta.name = "dynamic-peer";
                     dynamic.peer_asn.reset();
                     dynamic.dynamic_asn = "external";
                     w.objects.peers.push_back(dynamic);
                     a.peers = {"upstream-router", "dynamic-peer"};
                     a.local_pref = 100;
                   },
                   {"W spec.localPref: localPref is sent only on iBGP sessions, and every selected "
                    "BGPPeer is eBGP: upstream-router (myASN 64512, peerASN 64513), dynamic-peer "
                    "(dynamicASN external); no peer receives it"}},
        AdvertCase{"LocalPrefDynamicInternalIsIbgp",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.peers[0].peer_asn.reset();
                     w.objects.peers[0].dynamic_asn = "internal";
                     a.local_pref = 100;
                   },
                   {}},
        AdvertCase{"LocalPrefWithoutPeers",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.peers.clear();
                     a.local_pref = 100;
                   },
                   {}},
        AdvertCase{"LocalPrefOutOfRange",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.local_pref = 4294967296; },
                   {"E spec.localPref: localPref 4294967296 is out of range 0..4294967295"}},
        AdvertCase{"LocalPrefNegative",
                   [](World&, Advertisement& a, AdmissionOptions&) { a.local_pref = -1; },
                   {"E spec.localPref: localPref -1 is out of range 0..4294967295"}},
        AdvertCase{"OverlapSameNodesAndAllPeers",
                   [](World& w, Advertisement&, AdmissionOptions&) {
                     w.objects.advertisements[1].node_selectors.clear();
                   },
                   {kMerged}},
        AdvertCase{"OverlapWithNamedPeer",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.advertisements[1].node_selectors.clear();
                     w.objects.advertisements[1].peers = {"upstream-router"};
                     a.peers = {"upstream-router"};
                   },
                   {kMerged}},
        AdvertCase{"NoOverlapWithDisjointPeers",
                   [](World& w, Advertisement& a, AdmissionOptions&) {
                     w.objects.peers.push_back(Ibgp("route-reflector"));
                     w.objects.advertisements[1].node_selectors.clear();
                     w.objects.advertisements[1].peers = {"route-reflector"};
                     a.peers = {"upstream-router"};
                   },
                   {}},
        AdvertCase{"NoOverlapWithOtherPool",
                   [](World& w, Advertisement&, AdmissionOptions&) {
                     AddressPool other = ProductionPool();
                     other.meta.name = "other-pool";
                     other.addresses = {"192.0.2.0/28"};
                     w.objects.pools.push_back(other);
                     w.objects.advertisements[1].node_selectors.clear();
                     w.objects.advertisements[1].ip_address_pools = {"other-pool"};
                   },
                   {}},
        AdvertCase{
            "NoOverlapWithSameCommunities",
            [](World& w, Advertisement& a, AdmissionOptions&) {
              w.objects.advertisements[1].node_selectors.clear();
              a.communities = {"backup-route", "064512:200"};
            },
            {R"(W spec.communities[1]: "064512:200" is stored as 64512:200)",
             R"(W spec.communities[1]: "064512:200" (64512:200) duplicates spec.communities[0]; it is announced once)"}},
        AdvertCase{"OutsideConfiguredNamespace",
                   [](World&, Advertisement& a, AdmissionOptions& o) {
                     o.configured_namespace = "bgp";
                     a.communities = {"64512:1"};
                   },
                   {"E metadata.namespace: resource must be created in bgp namespace, not in "
                    "metallb-system (the namespace bgpcomm serves)"}}),
    [](const auto& info) { return info.param.name; });

TEST(Advertisement, UpdateSkipsItsOwnOldVersion) {
  World world = Walkthrough();
  Advertisement object = PrimaryAdvert();
  object.communities = {"backup-route"};
  Advertisement old = PrimaryAdvert();
  // The namespace holds the old primary-advert; only backup-advert is another advertisement,
  // and it now has the same communities.
  auto decision = ValidateAdvertisement(object, &old, world.Context(), {});
  EXPECT_TRUE(decision.diagnostics.items.empty()) << Lines(decision.diagnostics)[0];
  EXPECT_EQ(decision.stored.Annotation(), kBackupAnnotation);
}

// What the mutating endpoint computes: the same resolution as the full validation, with
// only the resolution's diagnostics (the other rules are the validating endpoint's).
TEST(Advertisement, ResolveComputesWhatValidateStoresWithoutTheOtherRules) {
  World world = Walkthrough();
  Advertisement object = PrimaryAdvert();
  object.communities = {"backup-route", "primary-rout"};
  object.as_path_prepend = 11;  // out of range: a rule of the validation only
  auto validated = ValidateAdvertisement(object, nullptr, world.Context(), {});
  auto resolved = ResolveAdvertisement(object, nullptr, world.Context(), {});
  EXPECT_EQ(resolved.stored.Annotation(), validated.stored.Annotation());
  EXPECT_EQ(resolved.stored.spec_communities, validated.stored.spec_communities);
  std::vector<std::string> lines = Lines(resolved.diagnostics);
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_TRUE(lines[0].starts_with("E spec.communities[1]: ")) << lines[0];
  EXPECT_NE(lines[0].find("primary-route"), std::string::npos) << lines[0];  // did you mean
  std::vector<std::string> all = Lines(validated.diagnostics);
  EXPECT_TRUE(std::any_of(all.begin(), all.end(), [](const std::string& line) {
    return line.starts_with("E spec.asPathPrepend: ");
  })) << ::testing::PrintToString(all);
}

TEST(Advertisement, InPlaceExpansion) {
  World world = Walkthrough();
  world.objects.advertisements.pop_back();
  Advertisement object = PrimaryAdvert();
  object.meta.annotations.clear();
  AdmissionOptions options;
  options.expand = ExpandMode::kInPlace;
  auto decision = ValidateAdvertisement(object, nullptr, world.Context(), options);
  EXPECT_TRUE(decision.diagnostics.items.empty());
  EXPECT_EQ(decision.stored.spec_communities,
            (std::vector<std::string>{"64512:100", "large:64512:1:100"}));
  EXPECT_EQ(decision.stored.Annotation(), kPrimaryAnnotation);
}

TEST(Advertisement, InPlaceReadModifyWriteKeepsFrom) {
  World world = Walkthrough();
  world.objects.advertisements.pop_back();
  // What in-place mode stored: the numbers in the spec, the aliases in `from`.
  Advertisement old =
      Advert("primary-advert", {"64512:100", "large:64512:1:100"}, kPrimaryAnnotation);
  world.objects.advertisements = {old};
  Advertisement submitted = old;
  submitted.meta.labels["team"] = "network";  // an edit of another field
  AdmissionOptions options;
  options.expand = ExpandMode::kInPlace;
  auto decision = ValidateAdvertisement(submitted, &old, world.Context(), options);
  EXPECT_TRUE(decision.diagnostics.items.empty());
  EXPECT_EQ(decision.stored.resolution.from,
            (std::vector<std::string>{"primary-route", "region-us-east"}));
  EXPECT_EQ(decision.stored.Annotation(), kPrimaryAnnotation);
  EXPECT_EQ(decision.stored.spec_communities, submitted.communities);
}

TEST(Advertisement, WarnPolicyStoresUnresolvedEntries) {
  // GitOps applied the advertisement before its Community.
  World world = Walkthrough();
  world.objects.communities.clear();
  world.objects.advertisements.clear();
  Advertisement object = PrimaryAdvert();
  object.meta.annotations.clear();
  AdmissionOptions options;
  options.unresolved = UnresolvedPolicy::kWarn;
  auto decision = ValidateAdvertisement(object, nullptr, world.Context(), options);
  EXPECT_FALSE(decision.diagnostics.HasErrors());
  EXPECT_EQ(
      Lines(decision.diagnostics),
      (std::vector<std::string>{
          R"(W spec.communities[0]: "primary-route" is not a community value, well-known name or alias defined in namespace metallb-system; it stays unresolved until a Community defines it)",
          R"(W spec.communities[1]: "region-us-east" is not a community value, well-known name or alias defined in namespace metallb-system; it stays unresolved until a Community defines it)"}));
  EXPECT_EQ(
      decision.stored.Annotation(),
      R"({"from":["primary-route","region-us-east"],"communities":[],"unresolved":["primary-route","region-us-east"]})");
}

// ---- IPAddressPool ----

struct PoolCase {
  std::string name;
  std::vector<std::string> addresses;
  std::vector<std::string> expected;
};

class PoolRules : public testing::TestWithParam<PoolCase> {};

TEST_P(PoolRules, Exact) {
  AddressPool pool = ProductionPool();
  pool.addresses = GetParam().addresses;
  World world = Walkthrough();
  EXPECT_EQ(Lines(ValidatePool(pool, world.Context(), {})), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PoolRules,
    testing::Values(
        PoolCase{"Valid",
                 {"203.0.113.0/28", "198.51.100.10-198.51.100.20", "2001:db8::/120",
                  "2001:db8:1::1-2001:db8:1::5"},
                 {}},
        PoolCase{
            "NotCidr",
            {"203.0.113.0/28", "203.0.113.300/32"},
            {R"(E spec.addresses[1]: "203.0.113.300/32": "203.0.113.300" is not an IP address)"}},
        PoolCase{
            "MixedRange",
            {"10.0.0.1-2001:db8::1"},
            {R"(E spec.addresses[0]: "10.0.0.1-2001:db8::1": first and last address are of different families)"}},
        PoolCase{
            "ReversedRange",
            {"10.0.0.9-10.0.0.1"},
            {R"(E spec.addresses[0]: "10.0.0.9-10.0.0.1": first address 10.0.0.9 is after last address 10.0.0.1)"}},
        PoolCase{
            "BareAddress",
            {"10.0.0.1"},
            {R"(E spec.addresses[0]: "10.0.0.1" is neither a CIDR (address/length) nor a range (first-last))"}},
        PoolCase{
            "Overlap",
            {"10.0.0.0/24", "10.0.0.128/25", "10.0.1.0-10.0.1.5", "10.0.1.4/32"},
            {R"(E spec.addresses[1]: "10.0.0.128/25" overlaps spec.addresses[0] ("10.0.0.0/24"))",
             R"(E spec.addresses[3]: "10.0.1.4/32" overlaps spec.addresses[2] ("10.0.1.0-10.0.1.5"))"}}),
    [](const auto& info) { return info.param.name; });

// ---- BGPPeer ----

struct PeerCase {
  std::string name;
  std::function<void(Peer&)> edit;
  std::vector<std::string> expected;
};

class PeerRules : public testing::TestWithParam<PeerCase> {};

TEST_P(PeerRules, Exact) {
  Peer peer = UpstreamRouter();
  GetParam().edit(peer);
  World world = Walkthrough();
  EXPECT_EQ(Lines(ValidatePeer(peer, world.Context(), {})), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PeerRules,
    testing::Values(
        PeerCase{"FullValid",
                 [](Peer& p) {
                   p.my_asn = 4294967295;
                   p.peer_asn = 1;
                   p.peer_address = "2001:db8::2";
                   p.source_address = "2001:db8::1";
                   p.peer_port = 16384;
                   p.hold_time = "1m30s";
                   p.keepalive_time = "30s";
                   p.connect_time = "10s";
                   p.router_id = "10.0.0.1";
                   p.ebgp_multihop = true;
                   p.password_secret.name = "bgp-secret";
                 },
                 {}},
        PeerCase{
            "MissingMyAsn", [](Peer& p) { p.my_asn.reset(); }, {"E spec.myASN: myASN is required"}},
        PeerCase{"AsnZero",
                 [](Peer& p) { p.my_asn = 0; },
                 {"E spec.myASN: myASN 0 is out of range 1..4294967295"}},
        PeerCase{"AsnTooLarge",
                 [](Peer& p) { p.peer_asn = 4294967296; },
                 {"E spec.peerASN: peerASN 4294967296 is out of range 1..4294967295"}},
        PeerCase{"MissingPeerAsn",
                 [](Peer& p) { p.peer_asn.reset(); },
                 {"E spec.peerASN: peerASN is required unless dynamicASN is set"}},
        PeerCase{"DynamicAsnInsteadOfPeerAsn",
                 [](Peer& p) {
                   p.peer_asn.reset();
                   p.dynamic_asn = "external";
                 },
                 {}},
        PeerCase{
            "BothPeerAsnAndDynamic",
            [](Peer& p) { p.dynamic_asn = "internal"; },
            {"E spec.peerASN: peerASN and dynamicASN are mutually exclusive; set one of them"}},
        PeerCase{"BadDynamicAsn",
                 [](Peer& p) {
                   p.peer_asn.reset();
                   p.dynamic_asn = "ibgp";
                 },
                 {R"(E spec.dynamicASN: dynamicASN "ibgp" is not one of internal, external)"}},
        PeerCase{"MissingAddress",
                 [](Peer& p) { p.peer_address.clear(); },
                 {"E spec.peerAddress: peerAddress is required (or interface, for unnumbered BGP)"}},
        PeerCase{"BadAddress",
                 [](Peer& p) { p.peer_address = "198.51.100"; },
                 {R"(E spec.peerAddress: "198.51.100" is not an IP address)"}},
        PeerCase{"BadSourceAddress",
                 [](Peer& p) { p.source_address = "router"; },
                 {R"(E spec.sourceAddress: "router" is not an IP address)"}},
        PeerCase{"SourceAddressOtherFamily",
                 [](Peer& p) { p.source_address = "2001:db8::1"; },
                 {"E spec.sourceAddress: sourceAddress 2001:db8::1 is IPv6 but peerAddress "
                  "198.51.100.2 is IPv4"}},
        PeerCase{"PortZero",
                 [](Peer& p) { p.peer_port = 0; },
                 {"E spec.peerPort: peerPort 0 is out of range 1..16384"}},
        PeerCase{"PortTooLarge",
                 [](Peer& p) { p.peer_port = 16385; },
                 {"E spec.peerPort: peerPort 16385 is out of range 1..16384"}},
        PeerCase{
            "HoldTimeNotDuration",
            [](Peer& p) { p.hold_time = "90"; },
            {R"(E spec.holdTime: holdTime "90" is not a duration (for example "90s" or "1m30s"))"}},
        PeerCase{"HoldTimeZeroAllowed",
                 [](Peer& p) {
                   p.hold_time = "0s";
                   p.keepalive_time = "0";
                 },
                 {}},
        PeerCase{"HoldTimeTooShort",
                 [](Peer& p) { p.hold_time = "2s"; },
                 {"E spec.holdTime: holdTime 2s must be 0 (no keepalives) or at least 3s (RFC "
                  "4271 §4.2)"}},
        PeerCase{"HoldTimeFractionTooShort",
                 [](Peer& p) { p.hold_time = "2.5s"; },
                 {"E spec.holdTime: holdTime 2.5s must be 0 (no keepalives) or at least 3s (RFC "
                  "4271 §4.2)"}},
        PeerCase{"HoldTimeThreeSeconds", [](Peer& p) { p.hold_time = "3000ms"; }, {}},
        PeerCase{"HoldTimeTooLong",
                 [](Peer& p) { p.hold_time = "19h"; },
                 {"E spec.holdTime: holdTime 19h exceeds 65535s, the largest BGP hold time (RFC "
                  "4271 §4.2)"}},
        PeerCase{"HoldTimeNegative",
                 [](Peer& p) { p.hold_time = "-90s"; },
                 {"E spec.holdTime: holdTime -90s is negative"}},
        // MetalLB: keepaliveTime may equal holdTime; without holdTime the hold time is
        // 3 x keepaliveTime.
        PeerCase{"KeepaliveEqualToHold",
                 [](Peer& p) {
                   p.hold_time = "1m";
                   p.keepalive_time = "60s";
                 },
                 {}},
        PeerCase{"KeepaliveAboveHold",
                 [](Peer& p) {
                   p.hold_time = "1m";
                   p.keepalive_time = "61s";
                 },
                 {"E spec.keepaliveTime: keepaliveTime 61s must not exceed holdTime 1m"}},
        PeerCase{"KeepaliveAboveZeroHold",
                 [](Peer& p) {
                   p.hold_time = "0s";
                   p.keepalive_time = "30s";
                 },
                 {"E spec.keepaliveTime: keepaliveTime 30s must not exceed holdTime 0s"}},
        PeerCase{"KeepaliveAloneSetsHold", [](Peer& p) { p.keepalive_time = "1m30s"; }, {}},
        PeerCase{
            "KeepaliveNotDuration",
            [](Peer& p) { p.keepalive_time = "30 s"; },
            {R"(E spec.keepaliveTime: keepaliveTime "30 s" is not a duration (for example "90s" or "1m30s"))"}},
        PeerCase{
            "ConnectTimeNotDuration",
            [](Peer& p) { p.connect_time = "1d"; },
            {R"(E spec.connectTime: connectTime "1d" is not a duration (for example "90s" or "1m30s"))"}},
        PeerCase{"MultihopOnIbgp",
                 [](Peer& p) {
                   p.peer_asn = 64512;
                   p.ebgp_multihop = true;
                 },
                 {"E spec.ebgpMultiHop: ebgpMultiHop is for eBGP peers; this is an iBGP session "
                  "(myASN equals peerASN)"}},
        PeerCase{"RouterIdNotIpv4",
                 [](Peer& p) { p.router_id = "2001:db8::1"; },
                 {R"(E spec.routerID: "2001:db8::1" is not an IPv4 address)"}},
        PeerCase{"BadNodeSelector",
                 [](Peer& p) {
                   p.node_selectors = {{{}, {{"rack", "Exists", {"a"}}}}};
                 },
                 {"E spec.nodeSelectors[0].matchExpressions[0].values: operator Exists takes no "
                  "values"}},
        PeerCase{"PasswordAndSecret",
                 [](Peer& p) {
                   p.password = "s3cret";
                   p.password_secret.name = "bgp-secret";
                 },
                 {"E spec.password: password and passwordSecret are mutually exclusive; set one "
                  "of them"}},
        PeerCase{"SecretNameWithQuery",
                 [](Peer& p) { p.password_secret.name = "bgp?watch=true"; },
                 {R"(E spec.passwordSecret.name: "bgp?watch=true" is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameWithSlash",
                 [](Peer& p) { p.password_secret.name = "bgp/../../configmaps/x"; },
                 {R"(E spec.passwordSecret.name: "bgp/../../configmaps/x" is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameDotDot",
                 [](Peer& p) { p.password_secret.name = ".."; },
                 {R"(E spec.passwordSecret.name: ".." is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameDotDotInside",
                 [](Peer& p) { p.password_secret.name = "bgp..secret"; },
                 {R"(E spec.passwordSecret.name: "bgp..secret" is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameCrLf",
                 [](Peer& p) { p.password_secret.name = "bgp\r\nX-Injected: 1"; },
                 {R"(E spec.passwordSecret.name: "bgp\x0d\x0aX-Injected: 1" is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameUppercase",
                 [](Peer& p) { p.password_secret.name = "BGP-Secret"; },
                 {R"(E spec.passwordSecret.name: "BGP-Secret" is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"SecretNameDotted",
                 [](Peer& p) { p.password_secret.name = "bgp.router-a.secret"; },
                 {}},
        PeerCase{"SecretNameTooLong",
                 [](Peer& p) { p.password_secret.name = std::string(254, 'a'); },
                 {"E spec.passwordSecret.name: \"" + std::string(254, 'a') + "\"" +
                  R"( is not a valid Secret name (a DNS-1123 subdomain: at most 253 characters, dot-separated parts of lowercase alphanumerics and '-', each starting and ending with an alphanumeric))"}},
        PeerCase{"OutsideConfiguredNamespace",
                 [](Peer& p) { p.meta.namespace_name = "default"; },
                 {"E metadata.namespace: resource must be created in metallb-system namespace, not "
                  "in default (the namespace bgpcomm serves)"}}),
    [](const auto& info) { return info.param.name; });

TEST(CheckNamespace, ConfiguredNamespaceIsSilent) {
  Diagnostics out;
  CheckNamespace("metallb-system", {}, out);
  CheckNamespace("", {}, out);
  EXPECT_TRUE(out.items.empty());
  AdmissionOptions options;
  options.configured_namespace = "bgp";
  CheckNamespace("bgp", options, out);
  EXPECT_TRUE(out.items.empty());
}

}  // namespace
}  // namespace bgpcomm::community
