#include "webhook/decide.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "unit/webhook/review_fixtures.h"

namespace bgpcomm::webhook {
namespace {

using testing::FakeView;
using ::testing::HasSubstr;
using testing::ReadReview;
using testing::Walkthrough;

AdmissionResponse Judge(Endpoint endpoint, const std::string& review, const ObjectView& view,
                        community::AdmissionOptions options = {}) {
  auto request = DecodeReview(ReadReview(review));
  EXPECT_TRUE(request.has_value()) << review;
  return Decide(endpoint, *request, view, options);
}

TEST(Decide, MutatingStoresTheWalkthroughResolution) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto response = Judge(Endpoint::kMutateAdvertisement, "create-primary-advert.json", view);
  EXPECT_EQ(
      EncodeReview(response),
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
      R"({"uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true,)"
      R"("patchType":"JSONPatch","patch":")" +
          std::string("W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2Fubm90YXRpb25zIiwidmFsdWUiOnsiYmdw"
                      "Y29tbS5pby9yZXNvbHZlZC1jb21tdW5pdGllcyI6IntcImZyb21cIjpbXCJwcmltYXJ5LXJvdXRl"
                      "XCIsXCJyZWdpb24tdXMtZWFzdFwiXSxcImNvbW11bml0aWVzXCI6W1wiNjQ1MTI6MTAwXCIsXCJs"
                      "YXJnZTo2NDUxMjoxOjEwMFwiXX0ifX1d") +
          R"("}})");
  ASSERT_TRUE(response.patch.has_value());
  EXPECT_EQ(*response.patch,
            R"([{"op":"add","path":"/metadata/annotations","value":)"
            R"({"bgpcomm.io/resolved-communities":"{\"from\":[\"primary-route\",)"
            R"(\"region-us-east\"],\"communities\":[\"64512:100\",\"large:64512:1:100\"]}"}}])");
}

TEST(Decide, MutatingIsIdempotent) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto response = Judge(Endpoint::kMutateAdvertisement, "create-advert-annotated.json", view);
  EXPECT_TRUE(response.allowed);
  EXPECT_EQ(response.patch, std::nullopt);
}

TEST(Decide, MutatingAnUpdateTouchesOnlyItsAnnotation) {
  FakeView view = FakeView::Of(Walkthrough(true));
  auto response = Judge(Endpoint::kMutateAdvertisement, "update-advert.json", view);
  EXPECT_TRUE(response.allowed);
  EXPECT_EQ(view.read_throughs, 0);  // a user's edit is resolved from the cache
  EXPECT_EQ(response.patch,
            R"([{"op":"add","path":"/metadata/annotations/bgpcomm.io~1resolved-communities",)"
            R"("value":"{\"from\":[\"backup-route\"],\"communities\":[\"64512:200\"]}"}])");
}

// update-advert.json as the resolver's PATCH makes it: spec.communities unchanged, the
// stored resolution rewritten from `before` to `after`.
std::string ResolutionRewrite(const std::string& before, const std::string& after) {
  auto review = nlohmann::json::parse(ReadReview("update-advert.json"));
  auto& request = review["request"];
  const std::string key(community::kResolvedAnnotation);
  request["object"]["spec"]["communities"] = request["oldObject"]["spec"]["communities"];
  request["oldObject"]["metadata"]["annotations"][key] = before;
  request["object"]["metadata"]["annotations"][key] = after;
  return review.dump();
}

constexpr const char* kResolved100 =
    R"({"from":["primary-route","region-us-east"],"communities":["64512:100","large:64512:1:100"]})";
constexpr const char* kResolved102 =
    R"({"from":["primary-route","region-us-east"],"communities":["64512:102","large:64512:1:100"]})";

// This replica's cache still holds primary-route = 64512:100 while the leader, whose
// cache saw the change to 64512:102, stores the new resolution: the API server's objects
// decide, and the new resolution is kept rather than overwritten by the old one.
TEST(Decide, MutatingARewrittenResolutionReadsThroughBeforeReplacingIt) {
  FakeView view = FakeView::Of(Walkthrough(true));
  community::NamespaceObjects now = Walkthrough(true);
  now.communities[0].aliases[0].value = "64512:102";
  view.api = NamespaceSnapshot::Make(now);
  auto request = DecodeReview(ResolutionRewrite(kResolved100, kResolved102));
  ASSERT_TRUE(request.has_value());
  auto response = Decide(Endpoint::kMutateAdvertisement, *request, view, {});
  EXPECT_TRUE(response.allowed);
  EXPECT_EQ(response.patch, std::nullopt);
  EXPECT_EQ(view.read_throughs, 1);

  // A hand-written resolution the API server's objects do not back is replaced.
  view.api = view.cached;
  response = Decide(Endpoint::kMutateAdvertisement, *request, view, {});
  ASSERT_TRUE(response.patch.has_value());
  EXPECT_THAT(*response.patch, HasSubstr("64512:100"));
  EXPECT_EQ(view.read_throughs, 2);

  // A rewrite the cache agrees with needs no read-through.
  request = DecodeReview(ResolutionRewrite(kResolved102, kResolved100));
  ASSERT_TRUE(request.has_value());
  response = Decide(Endpoint::kMutateAdvertisement, *request, view, {});
  EXPECT_EQ(response.patch, std::nullopt);
  EXPECT_EQ(view.read_throughs, 2);
}

TEST(Decide, DryRunIsJudgedTheSame) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto dry = Judge(Endpoint::kMutateAdvertisement, "create-advert-dryrun.json", view);
  auto real = Judge(Endpoint::kMutateAdvertisement, "create-primary-advert.json", view);
  EXPECT_EQ(dry.patch, real.patch);
}

TEST(Decide, ValidatingAdmitsTheWalkthroughWithTheOverlapWarning) {
  FakeView view = FakeView::Of(Walkthrough(true));
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-primary-advert.json", view);
  EXPECT_TRUE(response.allowed);
  ASSERT_EQ(response.warnings.size(), 1u);
  EXPECT_THAT(response.warnings[0], HasSubstr("backup-advert"));
  EXPECT_EQ(response.patch, std::nullopt);
}

TEST(Decide, DanglingAliasIsDeniedWithASuggestion) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-advert-typo.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.code, 422);
  EXPECT_EQ(response.reason, "Invalid");
  EXPECT_THAT(response.message, HasSubstr("BGPAdvertisement \"primary-advert\" is invalid: "
                                          "spec.communities[0]: "));
  EXPECT_THAT(response.message, HasSubstr("did you mean \"primary-route\""));
  ASSERT_EQ(response.causes.size(), 1u);
  EXPECT_EQ(response.causes[0].field, "spec.communities[0]");
}

TEST(Decide, StaleCacheIsReadThroughBeforeDenying) {
  FakeView view = FakeView::Of(Walkthrough(false));
  view.cached = NamespaceSnapshot::Make({.namespace_name = "metallb-system"});
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-primary-advert.json", view);
  EXPECT_TRUE(response.allowed) << response.message;
  EXPECT_EQ(view.read_throughs, 1);
}

TEST(Decide, UnreachableApiDeniesWhatNeedsALookup) {
  FakeView view;
  view.api_error = "dial tcp 127.0.0.1:6443: connection refused";
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-primary-advert.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.code, 503);
  EXPECT_EQ(response.message,
            "BGPAdvertisement \"primary-advert\" cannot be judged: bgpcomm could not read the "
            "namespace's objects from the Kubernetes API (dial tcp 127.0.0.1:6443: connection "
            "refused); try again");
  // The mutating endpoint stores nothing rather than an unchecked resolution.
  auto mutated = Judge(Endpoint::kMutateAdvertisement, "create-primary-advert.json", view);
  EXPECT_TRUE(mutated.allowed);
  EXPECT_EQ(mutated.patch, std::nullopt);
}

TEST(Decide, UnreachableApiStillReportsValueErrors) {
  FakeView view;
  view.api_error = "connection refused";
  auto response = Judge(Endpoint::kValidateCommunity, "create-community-bad-value.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.code, 422);
  EXPECT_EQ(response.message,
            "Community \"extra\" is invalid: spec.communities[0].value: \"64512:70000\": second "
            "field 70000 exceeds 65535");
}

TEST(Decide, DeletingAReferencedCommunityNamesTheAdvertisements) {
  FakeView view = FakeView::Of(Walkthrough(true));
  auto response = Judge(Endpoint::kValidateCommunity, "delete-community-referenced.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_THAT(response.message, HasSubstr("primary-advert"));
  EXPECT_THAT(response.message, HasSubstr("backup-advert"));
}

TEST(Decide, WrongVersionIsARegistrationError) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-advert-wrong-version.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.code, 400);
  EXPECT_EQ(response.message,
            "/validate-metallb-io-v1beta1-bgpadvertisement judges metallb.io/v1beta1 "
            "BGPAdvertisement, not metallb.io/v1beta2 BGPAdvertisement; check the webhook "
            "configuration's rules");
}

// Problems come in the order the fields are written, as `bgpcomm lint` reports them.
TEST(Decide, WrongFieldTypesAreDeniedWithTheirPaths) {
  FakeView view = FakeView::Of(Walkthrough(false));
  auto response = Judge(Endpoint::kValidateAdvertisement, "create-advert-wrong-types.json", view);
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.message,
            "BGPAdvertisement \"primary-advert\" is invalid: [spec.communities: must be a list of "
            "strings, got string, spec.aggregationLength: must be an integer, got string]");
  EXPECT_EQ(view.read_throughs, 0);
}

// Without the API, the problems that need no lookup are still reported (after trying to
// read the namespace: pools and peers are judged against the others).
TEST(Decide, PoolAndPeerProblemsWithoutTheApi) {
  FakeView view;
  view.api_error = "unreachable";
  auto pool = Judge(Endpoint::kValidatePool, "create-pool-bad-cidr.json", view);
  EXPECT_FALSE(pool.allowed);
  EXPECT_THAT(pool.message, HasSubstr("spec.addresses[0]"));
  auto peer = Judge(Endpoint::kValidatePeer, "create-peer-bad-asn.json", view);
  EXPECT_FALSE(peer.allowed);
  EXPECT_THAT(peer.message, HasSubstr("spec.myASN"));
}

// A review of `kind` (metallb.io/`version`) with `object` and `old_object` (JSON or null).
AdmissionRequest Review(std::string version, std::string kind, std::string operation,
                        std::string namespace_name, std::string object,
                        std::string old_object = "null") {
  std::string text =
      R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1",)"
      R"("kind":{"group":"metallb.io","version":")" +
      version + R"(","kind":")" + kind + R"("},"name":"x","namespace":")" + namespace_name +
      R"(","operation":")" + operation + R"(","object":)" + object + R"(,"oldObject":)" +
      old_object + "}}";
  auto request = DecodeReview(text);
  EXPECT_TRUE(request.has_value()) << text;
  return *request;
}

TEST(Decide, OutsideTheNamespaceIsDeniedWithoutReading) {
  FakeView view = FakeView::Of(Walkthrough(true));
  auto response = Decide(
      Endpoint::kValidatePool,
      Review("v1beta1", "IPAddressPool", "CREATE", "default",
             R"({"metadata":{"name":"p","namespace":"default"},"spec":{"addresses":["203.0.113.64/28"]}})"),
      view, {});
  EXPECT_FALSE(response.allowed);
  EXPECT_EQ(response.message,
            "IPAddressPool \"x\" is invalid: metadata.namespace: resource must be created in "
            "metallb-system namespace, not in default (the namespace bgpcomm serves)");
  EXPECT_EQ(view.read_throughs, 0);
}

TEST(Decide, PoolOverlappingAnotherIsDeniedAfterReadingThrough) {
  FakeView view = FakeView::Of(Walkthrough(true));
  auto response = Decide(
      Endpoint::kValidatePool,
      Review("v1beta1", "IPAddressPool", "CREATE", "metallb-system",
             R"({"metadata":{"name":"p","namespace":"metallb-system"},"spec":{"addresses":["203.0.113.8/29"]}})"),
      view, {});
  EXPECT_FALSE(response.allowed);
  EXPECT_THAT(response.message, HasSubstr("of IPAddressPool production-pool"));
  EXPECT_EQ(view.read_throughs, 1);
}

TEST(Decide, PeerNamingAMissingBfdProfile) {
  community::NamespaceObjects objects = Walkthrough(true);
  FakeView view = FakeView::Of(objects);
  const std::string peer =
      R"({"metadata":{"name":"p","namespace":"metallb-system"},"spec":{"myASN":64512,)"
      R"("peerASN":64513,"peerAddress":"198.51.100.9","bfdProfile":"fast"}})";
  auto denied = Decide(Endpoint::kValidatePeer,
                       Review("v1beta2", "BGPPeer", "CREATE", "metallb-system", peer), view, {});
  EXPECT_FALSE(denied.allowed);
  EXPECT_THAT(denied.message, HasSubstr("spec.bfdProfile: BFDProfile \"fast\" does not exist"));
  EXPECT_EQ(view.read_throughs, 1);
  // The profile exists in the API but not yet in the cache: the read-through admits it.
  community::BfdProfile fast;
  fast.meta.name = "fast";
  objects.bfd_profiles = {fast};
  view.api = NamespaceSnapshot::Make(objects);
  auto allowed = Decide(Endpoint::kValidatePeer,
                        Review("v1beta2", "BGPPeer", "CREATE", "metallb-system", peer), view, {});
  EXPECT_TRUE(allowed.allowed) << allowed.message;
}

TEST(Decide, BfdProfileRangesAndDeletionInUse) {
  community::NamespaceObjects objects = Walkthrough(true);
  community::Peer upstream;
  upstream.meta.name = "upstream-router";
  upstream.bfd_profile = "fast";
  objects.peers.push_back(upstream);
  FakeView view = FakeView::Of(objects);
  auto ranges = Decide(
      Endpoint::kValidateBfdProfile,
      Review("v1beta1", "BFDProfile", "CREATE", "metallb-system",
             R"({"metadata":{"name":"fast","namespace":"metallb-system"},"spec":{"detectMultiplier":1}})"),
      view, {});
  EXPECT_FALSE(ranges.allowed);
  EXPECT_EQ(ranges.message, "BFDProfile \"x\" is invalid: spec.detectMultiplier: detectMultiplier 1 "
                            "is out of range 2..255");
  auto in_use = Decide(
      Endpoint::kValidateBfdProfile,
      Review("v1beta1", "BFDProfile", "DELETE", "metallb-system", "null",
             R"({"metadata":{"name":"fast","namespace":"metallb-system"},"spec":{}})"),
      view, {});
  EXPECT_FALSE(in_use.allowed);
  EXPECT_EQ(in_use.message, "BFDProfile \"x\" is invalid: metadata.name: BFDProfile fast is used by "
                            "BGPPeer upstream-router; change the peers before deleting it");
}

// A view that also knows the Services holding addresses.
class ViewWithServices : public FakeView {
 public:
  ViewWithServices() {
    community::NamespaceObjects objects;
    objects.namespace_name = "metallb-system";
    cached = NamespaceSnapshot::Make(objects);
    api = cached;
  }
  std::vector<community::ServiceObject> services;
  std::string services_error;
  std::expected<std::vector<community::ServiceObject>, std::string> ServicesHoldingAddresses()
      const override {
    if (!services_error.empty()) return std::unexpected(services_error);
    return services;
  }
};

std::string PoolReview(const std::string& operation, const std::string& object,
                       const std::string& old_object) {
  return R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{)"
         R"("uid":"uid-pool","kind":{"group":"metallb.io","version":"v1beta1",)"
         R"("kind":"IPAddressPool"},"name":"production-pool","namespace":"metallb-system",)"
         R"("operation":")" +
         operation + R"(","object":)" + object + R"(,"oldObject":)" + old_object + "}}";
}

std::string PoolObject(const std::string& addresses) {
  return R"({"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPool","metadata":)"
         R"({"name":"production-pool","namespace":"metallb-system"},"spec":{"addresses":)" +
         addresses + "}}";
}

community::ServiceObject Holding(std::string name, std::string ip) {
  community::ServiceObject s;
  s.meta.name = std::move(name);
  s.meta.namespace_name = "default";
  s.type = "LoadBalancer";
  s.status.load_balancer.ingress.push_back({std::move(ip), ""});
  return s;
}

TEST(Decide, PoolChangeWarnsAboutAddressesItTakesFromServices) {
  ViewWithServices view;
  view.services = {Holding("web", "203.0.113.10"), Holding("api", "203.0.113.11"),
                   Holding("kept", "203.0.113.20")};
  auto judge = [&](const std::string& review) {
    auto request = DecodeReview(review);
    EXPECT_TRUE(request.has_value()) << review;
    return Decide(Endpoint::kValidatePool, *request, view, {});
  };
  auto update = judge(PoolReview("UPDATE", PoolObject(R"(["203.0.113.16/28"])"),
                                 PoolObject(R"(["203.0.113.0/27"])")));
  EXPECT_TRUE(update.allowed);
  EXPECT_THAT(update.warnings,
              ::testing::ElementsAre(
                  "spec.addresses: this change takes addresses away: 2 Services hold an "
                  "address it removes from the pool: default/api (203.0.113.11), default/web "
                  "(203.0.113.10); they get new addresses and their routes move"));

  auto removal = judge(PoolReview("DELETE", "null", PoolObject(R"(["203.0.113.0/27"])")));
  EXPECT_TRUE(removal.allowed);
  EXPECT_THAT(removal.warnings,
              ::testing::ElementsAre(HasSubstr(
                  "metadata.name: deleting IPAddressPool \"production-pool\" takes addresses "
                  "away: 3 Services hold an address from it: default/api (203.0.113.11), "
                  "default/kept (203.0.113.20), default/web (203.0.113.10);")));

  // Growing the pool takes nothing; a create has nothing to take.
  EXPECT_TRUE(judge(PoolReview("UPDATE", PoolObject(R"(["203.0.113.0/26"])"),
                               PoolObject(R"(["203.0.113.0/27"])")))
                  .warnings.empty());
  EXPECT_TRUE(judge(PoolReview("CREATE", PoolObject(R"(["203.0.113.0/28"])"), "null"))
                  .warnings.empty());
  // A denied change stays denied, without the warning; Services unknown: no warning.
  EXPECT_FALSE(judge(PoolReview("UPDATE", PoolObject(R"(["203.0.113.0/33"])"),
                                PoolObject(R"(["203.0.113.0/27"])")))
                   .allowed);
  view.services_error = "unreachable";
  auto unknown = judge(PoolReview("DELETE", "null", PoolObject(R"(["203.0.113.0/27"])")));
  EXPECT_TRUE(unknown.allowed);
  EXPECT_TRUE(unknown.warnings.empty());
}

TEST(EndpointPath, MatchesTheDesign) {
  EXPECT_EQ(EndpointPath(Endpoint::kValidateCommunity), "/validate-metallb-io-v1beta1-community");
  EXPECT_EQ(EndpointPath(Endpoint::kValidateAdvertisement),
            "/validate-metallb-io-v1beta1-bgpadvertisement");
  EXPECT_EQ(EndpointPath(Endpoint::kMutateAdvertisement),
            "/mutate-metallb-io-v1beta1-bgpadvertisement");
  EXPECT_EQ(EndpointPath(Endpoint::kValidatePool), "/validate-metallb-io-v1beta1-ipaddresspool");
  EXPECT_EQ(EndpointPath(Endpoint::kValidatePeer), "/validate-metallb-io-v1beta2-bgppeer");
  EXPECT_EQ(EndpointPath(Endpoint::kValidateBfdProfile),
            "/validate-metallb-io-v1beta1-bfdprofile");
}

}  // namespace
}  // namespace bgpcomm::webhook
