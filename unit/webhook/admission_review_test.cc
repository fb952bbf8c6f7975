#include "webhook/admission_review.h"

#include <gtest/gtest.h>

#include "unit/webhook/review_fixtures.h"

namespace bgpcomm::webhook {
namespace {

using testing::ReadReview;

TEST(DecodeReview, ReadsARecordedCreate) {
  auto request = DecodeReview(ReadReview("create-primary-advert.json"));
  ASSERT_TRUE(request.has_value()) << request.error().message;
  EXPECT_EQ(request->uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(request->group, "metallb.io");
  EXPECT_EQ(request->version, "v1beta1");
  EXPECT_EQ(request->kind, "BGPAdvertisement");
  EXPECT_EQ(request->name, "primary-advert");
  EXPECT_EQ(request->namespace_name, "metallb-system");
  EXPECT_EQ(request->operation, "CREATE");
  EXPECT_FALSE(request->dry_run);
  ASSERT_NE(request->object, nullptr);
  EXPECT_EQ(request->old_object, nullptr);
}

TEST(DecodeReview, ReadsDryRunAndUpdate) {
  auto dry = DecodeReview(ReadReview("create-advert-dryrun.json"));
  ASSERT_TRUE(dry.has_value());
  EXPECT_TRUE(dry->dry_run);
  auto update = DecodeReview(ReadReview("update-advert.json"));
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->operation, "UPDATE");
  EXPECT_NE(update->old_object, nullptr);
}

struct BadBody {
  std::string body;
  std::string uid;
  std::string message;
};

class DecodeReviewRejects : public ::testing::TestWithParam<BadBody> {};

TEST_P(DecodeReviewRejects, WithTheReasonAndTheUid) {
  auto request = DecodeReview(GetParam().body);
  ASSERT_FALSE(request.has_value());
  EXPECT_EQ(request.error().uid, GetParam().uid);
  EXPECT_EQ(request.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DecodeReviewRejects,
    ::testing::Values(
        BadBody{"", "", "malformed JSON at offset 0: The document is empty."},
        BadBody{"{\"kind\":", "", "malformed JSON at offset 8: Invalid value."},
        BadBody{"[1,2]", "", "body is not a JSON object"},
        BadBody{std::string(100, '[') + std::string(100, ']'), "",
                "JSON nested deeper than 64 levels"},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1","kind":"Pod"})", "",
                "kind must be AdmissionReview"},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview",)"
                R"("request":{"uid":"u1"}})",
                "u1", "apiVersion must be admission.k8s.io/v1, got \"admission.k8s.io/v1beta1\""},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", "",
                "request is missing"},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}})", "",
                "request.uid is missing"},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                R"("request":{"uid":"u2","operation":"CREATE"}})",
                "u2", "request.kind is missing"},
        BadBody{R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                R"("request":{"uid":"u3","kind":{},"operation":"PATCH"}})",
                "u3", "request.operation must be CREATE, UPDATE, DELETE or CONNECT, got \"PATCH\""},
        BadBody{ReadReview("create-advert-missing-object.json"), "uid-noobject",
                "request.object is missing for CREATE"}));

TEST(EncodeReview, AllowedWithWarnings) {
  auto response = AdmissionResponse::Allowed("u", {"spec.x: careful"});
  EXPECT_EQ(EncodeReview(response),
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
            R"({"uid":"u","allowed":true,"warnings":["spec.x: careful"]}})");
}

TEST(EncodeReview, PatchIsBase64JsonPatch) {
  auto response = AdmissionResponse::Allowed("u");
  response.patch = R"([{"op":"add","path":"/a","value":1}])";
  EXPECT_EQ(EncodeReview(response),
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
            R"({"uid":"u","allowed":true,"patchType":"JSONPatch",)"
            R"("patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d"}})");
}

TEST(EncodeReview, DeniedIs422InvalidWithEveryProblemInTheMessage) {
  community::Diagnostics d;
  d.Error("spec.a", "first \"problem\"");
  d.Warning("spec.w", "a warning");
  d.Error("spec.b", "second problem");
  auto response = AdmissionResponse::Denied("u", "Community \"c\"", d);
  EXPECT_EQ(EncodeReview(response),
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u",)"
            R"("allowed":false,"status":{"code":422,"reason":"Invalid","message":)"
            R"("Community \"c\" is invalid: [spec.a: first \"problem\", spec.b: second problem]"},)"
            R"("warnings":["spec.w: a warning"]}})");
}

TEST(EncodeReview, ErroredHasNoCauses) {
  auto response = AdmissionResponse::Errored("u", 503, "ServiceUnavailable", "down");
  EXPECT_EQ(EncodeReview(response),
            R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u",)"
            R"("allowed":false,"status":{"code":503,"reason":"ServiceUnavailable",)"
            R"("message":"down"}}})");
}

}  // namespace
}  // namespace bgpcomm::webhook
