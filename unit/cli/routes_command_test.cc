#include "cli/routes_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "unit/cli/cli_test_util.h"

namespace bgpcomm::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunBgpcomm;

class RoutesTest : public testing::ScratchTest {
 protected:
  // The walkthrough copied to dir/NAME.
  std::string CopyAs(const std::string& name) {
    std::string dir = CopyWalkthrough();
    std::filesystem::rename(dir, Path(name));
    return Path(name);
  }
};

constexpr char kWalkthroughRoutes[] =
    "node * (no Node in the manifests: any node, no labels)\n"
    "  peer upstream-router 198.51.100.2 AS64513 eBGP\n"
    "    203.0.113.10/32  ipv4 next-hop  communities 64512:100 64512:200 large:64512:1:100\n"
    "      from Service default/web; IPAddressPool production-pool; BGPAdvertisement "
    "backup-advert,primary-advert\n";

TEST_F(RoutesTest, WalkthroughText) {
  auto result = RunBgpcomm({"routes", CopyWalkthrough()});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(result.out, kWalkthroughRoutes);
}

TEST_F(RoutesTest, WalkthroughJson) {
  auto result = RunBgpcomm({"routes", "--output", "json", CopyWalkthrough()});
  ASSERT_EQ(result.code, 0) << result.err;
  auto j = nlohmann::json::parse(result.out);
  ASSERT_EQ(j["nodes"].size(), 1u);
  EXPECT_EQ(j["nodes"][0]["node"], "*");
  const auto& peer = j["nodes"][0]["peers"][0];
  EXPECT_EQ(peer["peer"], "upstream-router");
  EXPECT_EQ(peer["peerAddress"], "198.51.100.2");
  EXPECT_EQ(peer["peerASN"], 64513);
  EXPECT_EQ(peer["ibgp"], false);
  EXPECT_EQ(peer["families"], nlohmann::json::array({"ipv4"}));
  ASSERT_EQ(peer["routes"].size(), 1u);
  const auto& route = peer["routes"][0];
  EXPECT_EQ(route["prefix"], "203.0.113.10/32");
  EXPECT_EQ(route["nextHopFamily"], "ipv4");
  EXPECT_EQ(route["communities"], nlohmann::json::array({"64512:100", "64512:200"}));
  EXPECT_EQ(route["largeCommunities"], nlohmann::json::array({"large:64512:1:100"}));
  EXPECT_TRUE(route["localPref"].is_null());
  EXPECT_EQ(route["sent"], true);
  EXPECT_EQ(route["predicted"], false);
  EXPECT_EQ(route["addresses"], nlohmann::json::array({"203.0.113.10"}));
  std::vector<std::string> objects;
  for (const auto& o : route["objects"]) {
    objects.push_back(o["kind"].get<std::string>() + " " + o["namespace"].get<std::string>() + "/" +
                      o["name"].get<std::string>());
  }
  EXPECT_THAT(objects,
              ElementsAre("BGPAdvertisement metallb-system/backup-advert",
                          "BGPAdvertisement metallb-system/primary-advert",
                          "BGPPeer metallb-system/upstream-router",
                          "Community metallb-system/my-communities",
                          "IPAddressPool metallb-system/production-pool", "Service default/web"));
  EXPECT_EQ(j["services"][0]["addresses"], nlohmann::json::array({"203.0.113.10"}));
  EXPECT_EQ(j["services"][0]["predicted"], false);
  EXPECT_EQ(j["refused"], nlohmann::json::array());
}

TEST_F(RoutesTest, ServiceWithoutStatusGetsThePredictedAddress) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/06-service.yaml",
       "status:\n  loadBalancer:\n    ingress:\n      - ip: 203.0.113.10\n", "");
  Edit("walkthrough/06-service.yaml",
       "  annotations:\n    metallb.io/loadBalancerIPs: 203.0.113.10\n", "");
  auto result = RunBgpcomm({"routes", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("    203.0.113.0/32  ipv4 next-hop  communities 64512:100 64512:200 "
                        "large:64512:1:100  (predicted address)\n"));
  EXPECT_THAT(result.out, HasSubstr("predicted: Service default/web would get 203.0.113.0\n"));

  // A Service the allocator cannot serve says why.
  Write("walkthrough/07-service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: pinned\n  namespace: default\n"
        "  annotations:\n    metallb.io/loadBalancerIPs: 198.51.100.77\n"
        "spec:\n  type: LoadBalancer\n  ports: [{port: 80}]\n");
  auto failed = RunBgpcomm({"routes", "--output", "json", dir});
  ASSERT_EQ(failed.code, 0) << failed.err;
  auto j = nlohmann::json::parse(failed.out);
  ASSERT_EQ(j["services"].size(), 2u);
  EXPECT_EQ(j["services"][1]["name"], "pinned");
  EXPECT_EQ(j["services"][1]["addresses"], nlohmann::json::array());
  EXPECT_THAT(j["services"][1]["reason"].get<std::string>(), HasSubstr("OutsidePools"));
  EXPECT_EQ(j["nodes"][0]["peers"][0]["routes"][0]["predicted"], true);
}

TEST_F(RoutesTest, NodesSelectorsIbgpAndFamilies) {
  std::string dir = CopyWalkthrough();
  Write("walkthrough/10-nodes.yaml",
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n  labels: {rack: r1}\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: n2\n");
  // backup-advert only from rack r1; an iBGP peer with LOCAL_PREF; an IPv6 Service.
  Edit("walkthrough/04-bgp-advertisement-backup.yaml", "  aggregationLength: 32",
       "  aggregationLength: 32\n  localPref: 150\n  nodeSelectors:\n"
       "    - matchLabels: {rack: r1}");
  Write("walkthrough/11-more.yaml",
        "apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata:\n  name: rr\n"
        "  namespace: metallb-system\nspec:\n  myASN: 64512\n  peerASN: 64512\n"
        "  peerAddress: 198.51.100.6\n---\n"
        "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n  name: v6\n"
        "  namespace: metallb-system\nspec:\n  addresses: [2001:db8:1::/120]\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: six\n  namespace: default\n"
        "spec:\n  type: LoadBalancer\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n"
        "status:\n  loadBalancer:\n    ingress: [{ip: '2001:db8:1::5'}]\n");
  Edit("walkthrough/03-bgp-advertisement.yaml", "    - production-pool",
       "    - production-pool\n    - v6");
  Edit("walkthrough/04-bgp-advertisement-backup.yaml", "    - production-pool",
       "    - production-pool\n    - v6");
  auto result = RunBgpcomm({"routes", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(
      result.out,
      "node n1\n"
      "  peer rr 198.51.100.6 AS64512 iBGP\n"
      "    203.0.113.10/32  ipv4 next-hop  communities 64512:100 64512:200 "
      "large:64512:1:100  local-pref 150\n"
      "      from Service default/web; IPAddressPool production-pool; BGPAdvertisement "
      "backup-advert,primary-advert\n"
      "    2001:db8:1::5/128  ipv6 next-hop  communities 64512:100 64512:200 "
      "large:64512:1:100  local-pref 150\n"
      "      from Service default/six; IPAddressPool v6; BGPAdvertisement "
      "backup-advert,primary-advert\n"
      "      NOT SENT: the session carries ipv4 only (spec.dualStackAddressFamily is false)\n"
      "  peer upstream-router 198.51.100.2 AS64513 eBGP\n"
      "    203.0.113.10/32  ipv4 next-hop  communities 64512:100 64512:200 "
      "large:64512:1:100  local-pref 150 (not sent: eBGP)\n"
      "      from Service default/web; IPAddressPool production-pool; BGPAdvertisement "
      "backup-advert,primary-advert\n"
      "    2001:db8:1::5/128  ipv6 next-hop  communities 64512:100 64512:200 "
      "large:64512:1:100  local-pref 150 (not sent: eBGP)\n"
      "      from Service default/six; IPAddressPool v6; BGPAdvertisement "
      "backup-advert,primary-advert\n"
      "      NOT SENT: the session carries ipv4 only (spec.dualStackAddressFamily is false)\n"
      "node n2\n"
      "  peer rr 198.51.100.6 AS64512 iBGP\n"
      "    203.0.113.10/32  ipv4 next-hop  communities 64512:100 large:64512:1:100\n"
      "      from Service default/web; IPAddressPool production-pool; BGPAdvertisement "
      "primary-advert\n"
      "    2001:db8:1::5/128  ipv6 next-hop  communities 64512:100 large:64512:1:100\n"
      "      from Service default/six; IPAddressPool v6; BGPAdvertisement primary-advert\n"
      "      NOT SENT: the session carries ipv4 only (spec.dualStackAddressFamily is false)\n"
      "  peer upstream-router 198.51.100.2 AS64513 eBGP\n"
      "    203.0.113.10/32  ipv4 next-hop  communities 64512:100 large:64512:1:100\n"
      "      from Service default/web; IPAddressPool production-pool; BGPAdvertisement "
      "primary-advert\n"
      "    2001:db8:1::5/128  ipv6 next-hop  communities 64512:100 large:64512:1:100\n"
      "      from Service default/six; IPAddressPool v6; BGPAdvertisement primary-advert\n"
      "      NOT SENT: the session carries ipv4 only (spec.dualStackAddressFamily is false)\n");

  auto one = RunBgpcomm({"routes", "--node", "n2", "--output", "json", dir});
  ASSERT_EQ(one.code, 0) << one.err;
  auto j = nlohmann::json::parse(one.out);
  ASSERT_EQ(j["nodes"].size(), 1u);
  EXPECT_EQ(j["nodes"][0]["node"], "n2");
  EXPECT_EQ(j["nodes"][0]["peers"][0]["peer"], "rr");
  EXPECT_EQ(j["nodes"][0]["peers"][0]["ibgp"], true);
  EXPECT_EQ(j["nodes"][0]["peers"][0]["routes"][1]["sent"], false);
}

TEST_F(RoutesTest, RefusedAdvertisementIsShown) {
  std::string dir = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"routes", dir});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("    203.0.113.10/32  ipv4 next-hop  communities 64512:200\n"));
  EXPECT_THAT(result.out,
              HasSubstr("refused: BGPAdvertisement metallb-system/primary-advert announces "
                        "nothing: unresolved entries: \"primary-rout\"\n"));
}

TEST_F(RoutesTest, DiffOfTheReadmeTypo) {
  std::string base = CopyAs("base");
  std::string head = CopyWalkthrough();
  Edit("walkthrough/03-bgp-advertisement.yaml", "- primary-route", "- primary-rout");
  auto result = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(result.code, kExitRoutesChanged) << result.err;
  EXPECT_EQ(result.out,
            "routes: 0 added, 0 withdrawn, 1 changed\n"
            "~ node * peer upstream-router: 203.0.113.10/32 communities -64512:100; "
            "large-communities -large:64512:1:100\n"
            "    caused by BGPAdvertisement metallb-system/primary-advert (changed)\n"
            "! BGPAdvertisement metallb-system/primary-advert now announces nothing: "
            "unresolved entries: \"primary-rout\"\n");

  auto json = RunBgpcomm({"routes", "--output", "json", "--base", base, "--", head});
  EXPECT_EQ(json.code, kExitRoutesChanged);
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["changed"], true);
  ASSERT_EQ(j["changes"].size(), 1u);
  EXPECT_EQ(j["changes"][0]["change"], "changed");
  EXPECT_EQ(j["changes"][0]["node"], "*");
  EXPECT_EQ(j["changes"][0]["peer"], "upstream-router");
  EXPECT_EQ(j["changes"][0]["before"]["communities"],
            nlohmann::json::array({"64512:100", "64512:200"}));
  EXPECT_EQ(j["changes"][0]["after"]["communities"], nlohmann::json::array({"64512:200"}));
  EXPECT_EQ(j["changes"][0]["after"]["largeCommunities"], nlohmann::json::array());
  EXPECT_EQ(j["changes"][0]["causes"],
            nlohmann::json::array({"BGPAdvertisement metallb-system/primary-advert (changed)"}));
  EXPECT_EQ(j["newlyRefused"][0]["name"], "primary-advert");
}

TEST_F(RoutesTest, DiffOfAPoolEditAndOfAnAddressMove) {
  std::string base = CopyAs("base");
  std::string head = CopyWalkthrough();
  // The walkthrough's Service asks for 203.0.113.10; a pool edit then leaves it none
  // (the allocator says why), and the route is withdrawn.
  Edit("walkthrough/02-ip-pool.yaml", "203.0.113.0/28", "203.0.113.16/28");
  auto pinned = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(pinned.code, kExitRoutesChanged);
  EXPECT_THAT(pinned.out, HasSubstr("- node * peer upstream-router: 203.0.113.10/32 "));
  EXPECT_THAT(RunBgpcomm({"routes", head}).out,
              HasSubstr("allocator: Service default/web keeps 203.0.113.10 from status but: "
                        "OutsidePools"));
  Edit("walkthrough/02-ip-pool.yaml", "203.0.113.16/28", "203.0.113.0/28");
  // Without the request, the allocator moves the address instead.
  for (const char* dir : {"base", "walkthrough"}) {
    Edit(std::string(dir) + "/06-service.yaml",
         "  annotations:\n    metallb.io/loadBalancerIPs: 203.0.113.10\n", "");
  }
  Edit("walkthrough/02-ip-pool.yaml", "203.0.113.0/28", "203.0.113.16/28");
  auto result = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(result.code, kExitRoutesChanged) << result.err;
  EXPECT_EQ(result.out,
            "routes: 0 added, 0 withdrawn, 1 changed\n"
            "~ node * peer upstream-router: address 203.0.113.10/32 -> 203.0.113.16/32 "
            "(predicted)\n"
            "    caused by IPAddressPool metallb-system/production-pool (changed)\n");
  auto preview = RunBgpcomm({"routes", head});
  EXPECT_THAT(preview.out, HasSubstr("predicted: Service default/web would get 203.0.113.16 "
                                     "(replaces 203.0.113.10 from status)\n"));

  // A pool that no longer holds any address of the Service's family: withdrawn.
  Edit("walkthrough/02-ip-pool.yaml", "203.0.113.16/28", "2001:db8:5::/120");
  auto gone = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(gone.code, kExitRoutesChanged);
  EXPECT_EQ(gone.out,
            "routes: 0 added, 1 withdrawn, 0 changed\n"
            "- node * peer upstream-router: 203.0.113.10/32 64512:100 64512:200 "
            "large:64512:1:100\n"
            "    caused by IPAddressPool metallb-system/production-pool (changed)\n");
  Edit("walkthrough/02-ip-pool.yaml", "2001:db8:5::/120", "203.0.113.16/28");

  // The Service's status moves it to another address of the pool: one change, not two.
  Edit("walkthrough/02-ip-pool.yaml", "203.0.113.16/28", "203.0.113.0/28");
  Edit("walkthrough/06-service.yaml", "- ip: 203.0.113.10", "- ip: 203.0.113.11");
  auto moved = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(moved.code, kExitRoutesChanged);
  EXPECT_EQ(moved.out,
            "routes: 0 added, 0 withdrawn, 1 changed\n"
            "~ node * peer upstream-router: address 203.0.113.10/32 -> 203.0.113.11/32\n"
            "    caused by Service default/web (changed)\n");
}

TEST_F(RoutesTest, DiffWithoutRouteChangeExitsZero) {
  std::string base = CopyAs("base");
  std::string head = CopyWalkthrough();
  // A change no router sees: LOCAL_PREF towards an eBGP peer only.
  Edit("walkthrough/04-bgp-advertisement-backup.yaml", "  aggregationLength: 32",
       "  aggregationLength: 32\n  localPref: 150");
  auto result = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "routes: no change\n");
  auto json = RunBgpcomm({"routes", "--output", "json", "--base", base, "--", head});
  EXPECT_EQ(json.code, 0);
  EXPECT_EQ(nlohmann::json::parse(json.out)["changed"], false);
}

TEST_F(RoutesTest, AddedServiceAndUnreadableInput) {
  std::string base = CopyAs("base");
  std::string head = CopyWalkthrough();
  Write("walkthrough/07-service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: default\n"
        "spec:\n  type: LoadBalancer\n  ports: [{port: 443}]\n");
  auto result = RunBgpcomm({"routes", "--base", base, "--", head});
  EXPECT_EQ(result.code, kExitRoutesChanged);
  EXPECT_EQ(result.out,
            "routes: 1 added, 0 withdrawn, 0 changed\n"
            "+ node * peer upstream-router: 203.0.113.0/32 64512:100 64512:200 "
            "large:64512:1:100 (predicted address)\n"
            "    caused by Service default/api (added)\n");

  Write("bad/x.yaml", "kind: [\n");
  auto bad = RunBgpcomm({"routes", "--base", Path("bad"), "--", head});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("malformed YAML"));
  EXPECT_EQ(RunBgpcomm({"routes", Path("missing")}).code, 2);
  EXPECT_EQ(RunBgpcomm({"routes"}).code, 2);
  EXPECT_EQ(RunBgpcomm({"routes", "--output", "xml", head}).code, 2);
}

}  // namespace
}  // namespace bgpcomm::cli
