#include "webhook/json_patch.h"

#include <gtest/gtest.h>

namespace bgpcomm::webhook {
namespace {

community::StoredCommunities Stored(std::vector<std::string> spec) {
  community::StoredCommunities stored;
  stored.spec_communities = std::move(spec);
  stored.resolution = {.from = {"primary-route"}, .communities = {"64512:100"}};
  return stored;
}

rapidjson::Document Parse(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return d;
}

TEST(ResolutionPatch, CreatesTheAnnotationsMapWhenAbsent) {
  auto object = Parse(R"({"metadata":{"name":"a"},"spec":{"communities":["primary-route"]}})");
  EXPECT_EQ(ResolutionPatch(object, Stored({"primary-route"}), false),
            R"([{"op":"add","path":"/metadata/annotations","value":)"
            R"({"bgpcomm.io/resolved-communities":)"
            R"("{\"from\":[\"primary-route\"],\"communities\":[\"64512:100\"]}"}}])");
}

TEST(ResolutionPatch, AddsOnlyItsOwnKeyToExistingAnnotations) {
  auto object = Parse(R"({"metadata":{"annotations":{"team":"net"}},"spec":{}})");
  EXPECT_EQ(ResolutionPatch(object, Stored({}), false),
            R"([{"op":"add","path":"/metadata/annotations/bgpcomm.io~1resolved-communities",)"
            R"("value":"{\"from\":[\"primary-route\"],\"communities\":[\"64512:100\"]}"}])");
}

TEST(ResolutionPatch, NoPatchWhenAlreadyRight) {
  auto object = Parse(R"({"metadata":{"annotations":{"bgpcomm.io/resolved-communities":)"
                      R"("{\"from\":[\"primary-route\"],\"communities\":[\"64512:100\"]}"}},)"
                      R"("spec":{"communities":["primary-route"]}})");
  EXPECT_EQ(ResolutionPatch(object, Stored({"primary-route"}), false), std::nullopt);
  EXPECT_EQ(ResolutionPatch(object, Stored({"primary-route"}), true), std::nullopt);
}

TEST(ResolutionPatch, InPlaceReplacesSpecCommunities) {
  auto object = Parse(R"({"metadata":{"annotations":{"bgpcomm.io/resolved-communities":)"
                      R"("{\"from\":[\"primary-route\"],\"communities\":[\"64512:100\"]}"}},)"
                      R"("spec":{"communities":["primary-route"]}})");
  EXPECT_EQ(ResolutionPatch(object, Stored({"64512:100"}), true),
            R"([{"op":"add","path":"/spec/communities","value":["64512:100"]}])");
}

TEST(EscapePointerToken, EscapesTildeThenSlash) {
  EXPECT_EQ(EscapePointerToken("a/b~c"), "a~1b~0c");
}

}  // namespace
}  // namespace bgpcomm::webhook
