#include "community/alias_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bgpcomm::community {
namespace {

CommunityObject Community(std::string name, std::vector<CommunityAlias> aliases) {
  CommunityObject object;
  object.meta.name = std::move(name);
  object.meta.namespace_name = "metallb-system";
  object.aliases = std::move(aliases);
  return object;
}

TEST(AliasTable, WalkthroughCommunity) {
  std::vector<CommunityObject> communities = {
      Community("my-communities", {{"primary-route", "64512:100"},
                                   {"backup-route", "64512:200"},
                                   {"blackhole", "64512:666"},
                                   {"region-us-east", "large:64512:1:100"}})};
  AliasTable table = AliasTable::Build(communities);
  EXPECT_EQ(table.size(), 4u);
  const AliasEntry* primary = table.Find("primary-route");
  ASSERT_NE(primary, nullptr);
  EXPECT_EQ(primary->value, CommunityValue{(StandardCommunity{64512, 100})});
  EXPECT_EQ(primary->owner, "my-communities");
  ASSERT_NE(table.Find("region-us-east"), nullptr);
  EXPECT_EQ(table.Find("region-us-east")->value, CommunityValue{(LargeCommunity{64512, 1, 100})});
  ASSERT_NE(table.Find("blackhole"), nullptr);
  EXPECT_EQ(Format(table.Find("blackhole")->value), "64512:666");
  EXPECT_EQ(table.Find("primary-rout"), nullptr);
  EXPECT_EQ(table.Names(), (std::vector<std::string_view>{"backup-route", "blackhole",
                                                          "primary-route", "region-us-east"}));
}

TEST(AliasTable, LeavesOutInvalidValuesAndNames) {
  std::vector<CommunityObject> communities = {Community("c", {{"bad", "64512:70000"},
                                                              {"", "1:1"},
                                                              {"a:b", "1:2"},
                                                              {"ok", "no-export"},
                                                              {"zeros", "064512:0100"}})};
  AliasTable table = AliasTable::Build(communities);
  EXPECT_EQ(table.Find("bad"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
  EXPECT_EQ(table.Find("a:b"), nullptr);
  ASSERT_NE(table.Find("ok"), nullptr);
  EXPECT_EQ(Format(table.Find("ok")->value), "65535:65281");
  ASSERT_NE(table.Find("zeros"), nullptr);
  EXPECT_EQ(Format(table.Find("zeros")->value), "64512:100");
  EXPECT_EQ(table.size(), 2u);
}

TEST(AliasTable, FirstDefinitionByObjectNameThenPositionWins) {
  std::vector<CommunityObject> communities = {
      Community("zeta", {{"x", "3:3"}}),
      Community("alpha", {{"x", "1:1"}, {"x", "2:2"}}),
  };
  AliasTable table = AliasTable::Build(communities);
  ASSERT_NE(table.Find("x"), nullptr);
  EXPECT_EQ(Format(table.Find("x")->value), "1:1");
  EXPECT_EQ(table.Find("x")->owner, "alpha");
  EXPECT_EQ(table.size(), 1u);
}

TEST(AliasTable, EmptyTable) {
  AliasTable table;
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Find("anything"), nullptr);
  EXPECT_TRUE(table.Names().empty());
}

}  // namespace
}  // namespace bgpcomm::community
