#include <gtest/gtest.h>

#include <iterator>
#include <stdexcept>
#include <vector>

#include "speaker/adj_rib_out.h"
#include "speaker/bgp_decoder.h"

namespace bgpcomm::speaker {
namespace {

static_assert(std::forward_iterator<RouteSet::const_iterator>);

IpPrefix V4(std::uint8_t last) { return *IpPrefix::Make(IpAddress::V4(203, 0, 113, last), 32); }
IpPrefix V6(std::uint8_t last) {
  IpAddress a = IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0, 0x01});
  a.bytes[15] = last;
  return *IpPrefix::Make(a, 128);
}

RouteAttributes A() { return {{{64512, 100}}, {}, std::nullopt}; }
RouteAttributes B() { return {{{64512, 200}}, {{64512, 1, 1}}, 150}; }

std::vector<IpPrefix> Prefixes(const RouteSet& set) {
  std::vector<IpPrefix> out;
  for (const auto& [prefix, attributes] : set) out.push_back(prefix);
  return out;
}

TEST(RouteSetTest, IteratesInPrefixOrderAndKeepsTheFirstOfDuplicates) {
  RouteSet set{{V4(12), A()}, {V6(1), B()}, {V4(10), B()}, {V4(12), B()}};
  EXPECT_EQ(Prefixes(set), (std::vector{V4(10), V4(12), V6(1)}));
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.at(V4(12)), A());
  EXPECT_EQ(set.find(V4(10))->second, B());
  EXPECT_TRUE(set.contains(V6(1)));
  EXPECT_FALSE(set.contains(V4(11)));
  EXPECT_EQ(set.find(V4(11)), set.end());
  EXPECT_THROW(set.at(V4(11)), std::out_of_range);
}

TEST(RouteSetTest, RoutesShareOneEntryPerAttributeSet) {
  RouteSet set;
  for (std::uint8_t i = 0; i < 100; ++i) set.insert_or_assign(V4(i), i % 2 ? A() : B());
  EXPECT_EQ(set.size(), 100u);
  EXPECT_EQ(set.attribute_table().size(), 2u);
  set.insert_or_assign(V4(3), B());  // replaces
  EXPECT_EQ(set.size(), 100u);
  EXPECT_EQ(set.at(V4(3)), B());
  EXPECT_EQ(set.attribute_table().size(), 2u);
}

TEST(RouteSetTest, EraseAndEquality) {
  RouteSet set{{V4(10), A()}, {V4(11), B()}, {V4(12), A()}};
  EXPECT_EQ(set.erase(V4(11)), 1u);
  EXPECT_EQ(set.erase(V4(11)), 0u);
  // Equal by content, whatever the table holds.
  EXPECT_EQ(set, (RouteSet{{V4(12), A()}, {V4(10), A()}}));
  EXPECT_NE(set, (RouteSet{{V4(12), A()}, {V4(10), B()}}));
  EXPECT_EQ(erase_if(set, [](const RouteSet::value_type& r) { return r.first == V4(10); }), 1u);
  EXPECT_EQ(Prefixes(set), std::vector{V4(12)});
  set.clear();
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.begin(), set.end());
}

TEST(RouteSetTest, BuilderTakesRoutesInAnyOrder) {
  RouteSet::Builder builder;
  std::uint32_t a = builder.AddAttributes(A());
  std::uint32_t b = builder.AddAttributes(B());
  builder.Append(V4(10), a);
  builder.Append(V4(12), b);
  builder.Append(V4(11), a);
  builder.Append(V4(12), a);
  RouteSet set = std::move(builder).Build();
  EXPECT_EQ(set, (RouteSet{{V4(10), A()}, {V4(11), A()}, {V4(12), A()}}));
}

OutboundSession Ebgp(std::vector<AfiSafi> families) {
  OutboundSession s;
  s.local_asn = Asn(64512);
  s.next_hops.ipv4 = IpAddress::V4(198, 51, 100, 1);
  s.families = std::move(families);
  s.codec.four_octet_as = true;
  return s;
}

std::vector<UpdateMessage> Decoded(const RibOutput& out) {
  std::vector<UpdateMessage> updates;
  for (const Bytes& m : out.messages) {
    auto d = Decode(m, CodecOptions{.four_octet_as = true});
    EXPECT_TRUE(d) << d.error().message;
    if (d) updates.push_back(std::get<UpdateMessage>(*d));
  }
  return updates;
}

TEST(AdjRibOutDiffTest, AttributeSetsEqualOnTheSessionShareUpdates) {
  RouteAttributes low = B();
  low.local_pref = 50;
  AdjRibOut rib;
  auto updates = Decoded(rib.Start(Ebgp({kIpv4Unicast}), {{V4(10), B()}, {V4(11), low}}));
  ASSERT_EQ(updates.size(), 2u);  // eBGP drops LOCAL_PREF: one attribute set, End-of-RIB
  EXPECT_EQ(updates[0].nlri, (std::vector{V4(10), V4(11)}));
  EXPECT_EQ(rib.sent().attribute_table().size(), 1u);
}

TEST(AdjRibOutDiffTest, WithdrawalsInPrefixOrderPastRoutesNotCarried) {
  AdjRibOut rib;
  rib.Start(Ebgp({kIpv4Unicast}), {{V4(10), A()}, {V4(11), A()}, {V4(12), A()}});
  RibOutput out = rib.Update({{V4(11), A()}, {V6(1), A()}});
  EXPECT_EQ(out.withdrawn, 2u);
  EXPECT_EQ(out.announced, 0u);
  auto updates = Decoded(out);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].withdrawn, (std::vector{V4(10), V4(12)}));
  EXPECT_EQ(Prefixes(rib.sent()), std::vector{V4(11)});
}

}  // namespace
}  // namespace bgpcomm::speaker
