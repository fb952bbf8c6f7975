#include "webhook/metallb_cache.h"

#include <gtest/gtest.h>

#include "unit/kube/scripted_apiserver.h"

namespace bgpcomm::webhook {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;

class MetallbCacheTest : public ::testing::Test {
 protected:
  MetallbCacheTest() {
    auto client = kube::Client::New(kube::RestConfig{.server = apiserver_.Url()},
                                    kube::ClientOptions{.request_timeout = std::chrono::seconds(5)});
    EXPECT_TRUE(client);
    client_ = std::move(*client);
  }
  kube::InformerOptions Options() { return {.sleeper = &sleeper_, .random = &random_}; }

  ScriptedApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  FakeSleeper sleeper_;
  FixedRandom random_{0.5};
};

TEST_F(MetallbCacheTest, SyncsAllFourAndHandsOutDecodedObjectsOfANamespace) {
  apiserver_.AddList("communities",
                     {200, CommunityListJson("5", CommunityJson("my-communities", "3"))});
  apiserver_.AddList(
      "bgpadvertisements",
      {200,
       R"({"apiVersion":"metallb.io/v1beta1","kind":"BGPAdvertisementList","metadata":{"resourceVersion":"5"},"items":[{"apiVersion":"metallb.io/v1beta1","kind":"BGPAdvertisement","metadata":{"name":"primary-advert","namespace":"metallb-system","resourceVersion":"4","uid":"u1"},"spec":{"communities":["primary-route"],"ipAddressPools":["production-pool"]}}]})"});
  apiserver_.AddList(
      "ipaddresspools",
      {200,
       R"({"apiVersion":"metallb.io/v1beta1","kind":"IPAddressPoolList","metadata":{"resourceVersion":"5"},"items":[]})"});
  kube::Informer* peers_informer = nullptr;
  MetallbCache cache(*client_, "metallb-system", Options());
  peers_informer = &cache.peers();
  std::atomic<int> changes{0};
  cache.OnChange([&](const kube::Resource&) { ++changes; });
  cache.Start();
  // BGPPeer (v1beta2) has no scripted list yet: the cache is not synced.
  ASSERT_TRUE(WaitFor([&] {
    return cache.communities().HasSynced() && cache.advertisements().HasSynced() &&
           cache.pools().HasSynced();
  }));
  EXPECT_FALSE(cache.HasSynced());
  EXPECT_FALSE(peers_informer->HasSynced());
  apiserver_.AddList(
      "bgppeers",
      {200,
       R"({"apiVersion":"metallb.io/v1beta2","kind":"BGPPeerList","metadata":{"resourceVersion":"6"},"items":[{"apiVersion":"metallb.io/v1beta2","kind":"BGPPeer","metadata":{"name":"router","namespace":"metallb-system","resourceVersion":"6"},"spec":{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.2"}}]})"});
  ASSERT_TRUE(cache.WaitForSync(10s));
  cache.Stop();
  auto objects = cache.Objects("metallb-system");
  ASSERT_EQ(objects.communities.size(), 1u);
  ASSERT_EQ(objects.advertisements.size(), 1u);
  EXPECT_EQ(objects.advertisements[0]->name, "primary-advert");
  EXPECT_TRUE(objects.pools.empty());
  ASSERT_EQ(objects.peers.size(), 1u);
  EXPECT_EQ(objects.peers[0]->As<community::Peer>()->peer_address, "198.51.100.2");
  EXPECT_EQ(objects.advertisements[0]->As<community::Advertisement>()->communities,
            std::vector<std::string>{"primary-route"});
  EXPECT_EQ(objects.communities[0]->As<community::CommunityObject>()->aliases.at(0).value,
            "64512:100");
  EXPECT_TRUE(cache.Objects("default").communities.empty());
  EXPECT_EQ(changes.load(), 3);
  EXPECT_EQ(apiserver_.Requests("bgppeers").front(), "LIST metallb-system continue=");
}

}  // namespace
}  // namespace bgpcomm::webhook
