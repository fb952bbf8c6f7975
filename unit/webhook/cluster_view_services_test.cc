#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "objectjson/metallb.h"
#include "unit/kube/scripted_apiserver.h"
#include "webhook/cluster_view.h"

namespace bgpcomm::webhook {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;

constexpr char kServices[] =
    R"({"apiVersion":"v1","kind":"ServiceList","metadata":{"resourceVersion":"7"},"items":[)"
    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default",)"
    R"("resourceVersion":"5","uid":"s1"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]},)"
    R"("status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.10"}]}}},)"
    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"pending","namespace":"shop",)"
    R"("resourceVersion":"6","uid":"s2"},"spec":{"type":"LoadBalancer"},"status":{}},)"
    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"internal","namespace":"shop",)"
    R"("resourceVersion":"7","uid":"s3"},"spec":{"type":"ClusterIP"},)"
    R"("status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.11"}]}}}]})";

class ClusterViewServicesTest : public ::testing::Test {
 protected:
  ClusterViewServicesTest() {
    auto client =
        kube::Client::New(kube::RestConfig{.server = apiserver_.Url()},
                          kube::ClientOptions{.request_timeout = std::chrono::seconds(5)});
    EXPECT_TRUE(client);
    client_ = std::move(*client);
  }
  kube::InformerOptions Options() { return {.sleeper = &sleeper_, .random = &random_}; }

  static std::vector<std::string> Held(
      const std::expected<std::vector<community::ServiceObject>, std::string>& services) {
    std::vector<std::string> out;
    if (!services) return {"error: " + services.error()};
    for (const auto& s : services.value()) {
      out.push_back(s.meta.namespace_name + "/" + s.meta.name + " " +
                    s.status.load_balancer.ingress.at(0).ip);
    }
    return out;
  }

  ScriptedApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  FakeSleeper sleeper_;
  FixedRandom random_{0.5};
};

TEST_F(ClusterViewServicesTest, ServicesHoldingAddressesFromTheInformerOnceSyncedElseAList) {
  MetallbCache cache(*client_, "metallb-system", Options());
  ClusterView view(*client_, cache, "metallb-system");
  // No informer, and the API fails: the warning's input is unknown, with the reason.
  EXPECT_THAT(Held(view.ServicesHoldingAddresses()),
              ::testing::ElementsAre(::testing::StartsWith("error: ")));

  apiserver_.AddList("services", {200, kServices});
  // Read through (cluster-wide LIST): only LoadBalancer Services that hold an address.
  EXPECT_THAT(Held(view.ServicesHoldingAddresses()),
              ::testing::ElementsAre("default/web 203.0.113.10"));
  EXPECT_EQ(apiserver_.Requests("services").back(), "LIST  continue=");

  kube::InformerOptions options = Options();
  options.reflector.decode = kube::DecodeAs([](const rapidjson::Value& object) {
    community::Diagnostics ignored;
    return objectjson::DecodeService(object, ignored);
  });
  kube::Informer services(*client_, kube::resources::kServices, "", options);
  view.CacheServices(&services);
  services.Start();
  ASSERT_TRUE(services.WaitForSync(10s));
  std::size_t lists = apiserver_.Requests("services").size();
  EXPECT_THAT(Held(view.ServicesHoldingAddresses()),
              ::testing::ElementsAre("default/web 203.0.113.10"));
  // Answered from the cache: no further LIST.
  std::size_t after = 0;
  for (const std::string& r : apiserver_.Requests("services")) after += r.starts_with("LIST");
  std::size_t before = 0;
  for (std::size_t i = 0; i < lists; ++i) {
    before += apiserver_.Requests("services")[i].starts_with("LIST");
  }
  EXPECT_EQ(after, before);
  services.Stop();
}

// An informer decoding into another type (the allocator's, in main.cc) is read through the
// reader given with it.
TEST_F(ClusterViewServicesTest, AnInformerOfAnotherDecodingIsReadThroughItsReader) {
  MetallbCache cache(*client_, "metallb-system", Options());
  ClusterView view(*client_, cache, "metallb-system");
  apiserver_.AddList("services", {200, kServices});
  kube::InformerOptions options = Options();
  options.reflector.decode = kube::DecodeAs([](const rapidjson::Value& object) {
    community::Diagnostics ignored;
    return std::make_pair(std::string("read:"), objectjson::DecodeService(object, ignored));
  });
  kube::Informer services(*client_, kube::resources::kServices, "", options);
  view.CacheServices(&services, [](const kube::Object& object)
                                    -> std::optional<community::ServiceObject> {
    auto pair = object.As<std::pair<std::string, community::ServiceObject>>();
    if (!pair) return std::nullopt;
    community::ServiceObject out = pair->second;
    out.meta.name = pair->first + out.meta.name;
    return out;
  });
  services.Start();
  ASSERT_TRUE(services.WaitForSync(10s));
  EXPECT_THAT(Held(view.ServicesHoldingAddresses()),
              ::testing::ElementsAre("default/read:web 203.0.113.10"));
  services.Stop();
}

}  // namespace
}  // namespace bgpcomm::webhook
