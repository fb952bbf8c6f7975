#include "community/pool_release.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::community {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

AddressPool Pool(std::vector<std::string> addresses, bool avoid_buggy = false) {
  AddressPool p;
  p.meta = {"production-pool", "metallb-system", {}, {}};
  p.addresses = std::move(addresses);
  p.avoid_buggy_ips = avoid_buggy;
  return p;
}

ServiceObject Holding(std::string ns, std::string name, std::vector<std::string> ips,
                      std::string type = "LoadBalancer") {
  ServiceObject s;
  s.meta = {std::move(name), std::move(ns), {}, {}};
  s.type = std::move(type);
  for (std::string& ip : ips) s.status.load_balancer.ingress.push_back({std::move(ip), ""});
  return s;
}

std::vector<std::string> Texts(const Diagnostics& d) {
  std::vector<std::string> out;
  for (const Diagnostic& item : d.items) {
    out.push_back((item.severity == Severity::kWarning ? "warning " : "error ") + item.ToString());
  }
  return out;
}

TEST(WarnAddressesTakenTest, ShrinkNamesCountAndAtMostThree) {
  std::vector<ServiceObject> services = {
      Holding("shop", "web", {"203.0.113.10"}),
      Holding("default", "a", {"203.0.113.2", "2001:db8::5"}),
      Holding("default", "keeps", {"203.0.113.20"}),
      Holding("default", "b", {"203.0.113.3"}),
      Holding("default", "c", {"203.0.113.4"}),
      Holding("default", "node-port", {"203.0.113.5"}, "NodePort"),
      Holding("default", "elsewhere", {"198.51.100.9", "not-an-ip"}),
  };
  AddressPool old_pool = Pool({"203.0.113.0/28", "203.0.113.20-203.0.113.21", "2001:db8::/120"});
  AddressPool new_pool = Pool({"203.0.113.16/28", "2001:db8::/120"});
  EXPECT_THAT(Texts(WarnAddressesTaken(old_pool, &new_pool, services)),
              ElementsAre("warning spec.addresses: this change takes addresses away: 4 Services "
                          "hold an address it removes from the pool: default/a (203.0.113.2), "
                          "default/b (203.0.113.3), default/c (203.0.113.4) and 1 more; they get "
                          "new addresses and their routes move"));
}

TEST(WarnAddressesTakenTest, DeletionAndOneService) {
  std::vector<ServiceObject> services = {Holding("default", "web", {"203.0.113.10"})};
  AddressPool pool = Pool({"203.0.113.0/28"});
  EXPECT_THAT(Texts(WarnAddressesTaken(pool, nullptr, services)),
              ElementsAre("warning metadata.name: deleting IPAddressPool \"production-pool\" "
                          "takes addresses away: 1 Service holds an address from it: default/web "
                          "(203.0.113.10); they get new addresses and their routes move"));
}

TEST(WarnAddressesTakenTest, NothingTakenNothingSaid) {
  std::vector<ServiceObject> services = {Holding("default", "web", {"203.0.113.10"}),
                                         Holding("default", "zero", {"203.0.113.0"})};
  AddressPool pool = Pool({"203.0.113.0/28"});
  AddressPool grown = Pool({"203.0.113.0/27"});
  EXPECT_THAT(WarnAddressesTaken(pool, &grown, services).items, IsEmpty());
  EXPECT_THAT(WarnAddressesTaken(pool, &pool, {}).items, IsEmpty());
  // avoidBuggyIPs turned on takes the .0 address.
  AddressPool buggy = Pool({"203.0.113.0/28"}, /*avoid_buggy=*/true);
  EXPECT_THAT(Texts(WarnAddressesTaken(pool, &buggy, services)),
              ElementsAre(::testing::HasSubstr("1 Service holds an address it removes from the "
                                               "pool: default/zero (203.0.113.0);")));
}

}  // namespace
}  // namespace bgpcomm::community
