#include "speaker/adj_rib_out.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "speaker/bgp_decoder.h"

namespace bgpcomm::speaker {
namespace {

constexpr CodecOptions kFourOctet{.four_octet_as = true};

IpPrefix V4(std::uint8_t last, int length = 32) {
  return *IpPrefix::Make(IpAddress::V4(203, 0, 113, last), length);
}
IpPrefix V6(std::uint8_t last) {
  IpAddress a = IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0, 0x01});
  a.bytes[15] = last;
  return *IpPrefix::Make(a, 128);
}

OutboundSession Session(bool ibgp) {
  OutboundSession s;
  s.local_asn = Asn(64512);
  s.ibgp = ibgp;
  s.next_hops.ipv4 = IpAddress::V4(198, 51, 100, 1);
  s.next_hops.ipv6 =
      IpAddress::V6({0x20, 0x01, 0x0d, 0xb8, 0x00, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  s.families = {kIpv4Unicast, kIpv6Unicast};
  s.codec = kFourOctet;
  return s;
}

RouteAttributes Primary() { return {{{64512, 100}, {64512, 200}}, {{64512, 1, 100}}, 200}; }
RouteAttributes Backup() { return {{{64512, 300}}, {}, std::nullopt}; }

std::vector<UpdateMessage> Decoded(const RibOutput& out) {
  std::vector<UpdateMessage> updates;
  for (const Bytes& m : out.messages) {
    auto d = Decode(m, kFourOctet);
    EXPECT_TRUE(d) << d.error().message;
    if (d) updates.push_back(std::get<UpdateMessage>(*d));
  }
  return updates;
}

// asPathPrepend: our ASN that many more times (eBGP), or that many times (iBGP).
TEST(AdjRibOutTest, AsPathPrepend) {
  RouteAttributes prepended = Backup();
  prepended.as_path_prepend = 2;
  for (bool ibgp : {false, true}) {
    AdjRibOut rib;
    RibOutput out = rib.Start(Session(ibgp), RouteSet{{V4(10), prepended}});
    auto updates = Decoded(out);
    ASSERT_FALSE(updates.empty());
    std::vector<Asn> want(ibgp ? 2 : 3, Asn(64512));
    EXPECT_EQ(updates[0].attributes.as_path,
              (AsPath{{AsPathSegment::Type::kSequence, want}}))
        << (ibgp ? "iBGP" : "eBGP");
  }
}

TEST(AdjRibOutTest, StartSendsFullTablePackedByAttributesThenEndOfRib) {
  AdjRibOut rib;
  RouteSet desired{{V4(10), Primary()}, {V4(11), Backup()}, {V4(12), Primary()}};
  RibOutput out = rib.Start(Session(false), desired);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.announced, 3u);
  auto updates = Decoded(out);
  ASSERT_EQ(updates.size(), 4u);  // one per attribute set, then two End-of-RIB markers
  std::vector<std::vector<IpPrefix>> nlri{updates[0].nlri, updates[1].nlri};
  EXPECT_TRUE(std::ranges::find(nlri, std::vector{V4(10), V4(12)}) != nlri.end());
  EXPECT_TRUE(std::ranges::find(nlri, std::vector{V4(11)}) != nlri.end());
  EXPECT_EQ(updates[2].EndOfRibFamily(), kIpv4Unicast);
  EXPECT_EQ(updates[3].EndOfRibFamily(), kIpv6Unicast);
}

TEST(AdjRibOutTest, EbgpGetsOurAsAndNoLocalPref) {
  AdjRibOut rib;
  auto updates = Decoded(rib.Start(Session(false), {{V4(10), Primary()}}));
  const PathAttributes& a = updates[0].attributes;
  EXPECT_EQ(a.origin, Origin::kIgp);
  EXPECT_EQ(a.as_path, (AsPath{{AsPathSegment::Type::kSequence, {Asn(64512)}}}));
  EXPECT_EQ(a.local_pref, std::nullopt);
  EXPECT_EQ(a.next_hop, IpAddress::V4(198, 51, 100, 1));
  EXPECT_EQ(a.communities, (std::vector<StandardCommunity>{{64512, 100}, {64512, 200}}));
  EXPECT_EQ(a.large_communities, (std::vector<LargeCommunity>{{64512, 1, 100}}));
  EXPECT_EQ(rib.sent().at(V4(10)).local_pref, std::nullopt);
}

TEST(AdjRibOutTest, IbgpGetsLocalPrefDefault100AndEmptyAsPath) {
  AdjRibOut rib;
  auto updates = Decoded(rib.Start(Session(true), {{V4(10), Primary()}, {V4(11), Backup()}}));
  ASSERT_GE(updates.size(), 2u);
  std::vector<std::uint32_t> prefs;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(updates[i].attributes.as_path, AsPath{});
    ASSERT_TRUE(updates[i].attributes.local_pref);
    prefs.push_back(*updates[i].attributes.local_pref);
  }
  std::ranges::sort(prefs);
  EXPECT_EQ(prefs, (std::vector<std::uint32_t>{100, 200}));
}

TEST(AdjRibOutTest, Ipv6RoutesGoInMpReach) {
  AdjRibOut rib;
  auto updates = Decoded(rib.Start(Session(false), {{V6(10), Primary()}}));
  ASSERT_TRUE(updates[0].attributes.mp_reach);
  EXPECT_EQ(updates[0].attributes.mp_reach->nlri, std::vector{V6(10)});
  EXPECT_TRUE(updates[0].nlri.empty());
}

TEST(AdjRibOutTest, FamilyNotNegotiatedIsNotSent) {
  AdjRibOut rib;
  OutboundSession s = Session(false);
  s.families = {kIpv4Unicast};
  RibOutput out = rib.Start(s, {{V4(10), Primary()}, {V6(10), Primary()}});
  EXPECT_EQ(out.announced, 1u);
  EXPECT_EQ(rib.sent().size(), 1u);
  EXPECT_EQ(Decoded(out).size(), 2u);  // one UPDATE, one End-of-RIB
}

TEST(AdjRibOutTest, UpdateSendsOnlyDifferences) {
  AdjRibOut rib;
  rib.Start(Session(false), {{V4(10), Primary()}, {V4(11), Backup()}});
  // Unchanged: nothing.
  EXPECT_TRUE(rib.Update({{V4(10), Primary()}, {V4(11), Backup()}}).messages.empty());
  // V4(11) withdrawn, V4(10) changed, V4(12) new with V4(10)'s attributes.
  RibOutput out = rib.Update({{V4(10), Backup()}, {V4(12), Backup()}});
  EXPECT_EQ(out.withdrawn, 1u);
  EXPECT_EQ(out.announced, 2u);
  auto updates = Decoded(out);
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].withdrawn, std::vector{V4(11)});
  EXPECT_TRUE(updates[0].nlri.empty());
  EXPECT_EQ(updates[1].nlri, (std::vector{V4(10), V4(12)}));
  EXPECT_EQ(updates[1].attributes.communities, Backup().communities);
}

TEST(AdjRibOutTest, ChangeReportsOnlyThePrefixesThatEnteredOrLeftTheTable) {
  AdjRibOut rib;
  RibOutput start = rib.Start(Session(false), {{V4(10), Primary()}, {V4(11), Backup()}});
  EXPECT_FALSE(start.membership) << "a whole table: no membership changes to report";
  // V4(10) re-announced with other attributes (still held), V4(11) withdrawn, V4(12) new,
  // V4(13) withdrawn but never sent.
  RibOutput out = rib.Change(
      {{V4(10), Backup()}, {V4(11), std::nullopt}, {V4(12), Primary()}, {V4(13), std::nullopt}});
  ASSERT_TRUE(out.membership);
  EXPECT_EQ(out.membership->added, std::vector{V4(12)});
  EXPECT_EQ(out.membership->removed, std::vector{V4(11)});
  // Unchanged: nothing enters or leaves.
  out = rib.Change({{V4(12), Primary()}});
  ASSERT_TRUE(out.membership);
  EXPECT_TRUE(out.membership->added.empty());
  EXPECT_TRUE(out.membership->removed.empty());
  EXPECT_FALSE(rib.Update({{V4(10), Backup()}}).membership);
}

TEST(AdjRibOutTest, LocalPrefChangeIsInvisibleOnEbgp) {
  AdjRibOut rib;
  rib.Start(Session(false), {{V4(10), Primary()}});
  RouteAttributes other = Primary();
  other.local_pref = 50;
  EXPECT_TRUE(rib.Update({{V4(10), other}}).messages.empty());
}

TEST(AdjRibOutTest, Ipv6WithdrawalUsesMpUnreach) {
  AdjRibOut rib;
  rib.Start(Session(false), {{V6(10), Primary()}});
  auto updates = Decoded(rib.Update({}));
  ASSERT_EQ(updates.size(), 1u);
  ASSERT_TRUE(updates[0].attributes.mp_unreach);
  EXPECT_EQ(updates[0].attributes.mp_unreach->withdrawn, std::vector{V6(10)});
}

TEST(AdjRibOutTest, NothingWhileDownAndFullTableAfterRestart) {
  AdjRibOut rib;
  EXPECT_TRUE(rib.Update({{V4(10), Primary()}}).messages.empty());
  rib.Start(Session(false), {{V4(10), Primary()}});
  rib.Stop();
  EXPECT_FALSE(rib.active());
  EXPECT_TRUE(rib.sent().empty());
  RibOutput out = rib.Start(Session(false), {{V4(10), Primary()}});
  EXPECT_EQ(out.announced, 1u);
}

TEST(AdjRibOutTest, TwoHundredCommunitiesFitAndUseExtendedLength) {
  RouteAttributes many;
  for (std::uint16_t i = 0; i < 200; ++i) many.communities.push_back({64512, i});
  AdjRibOut rib;
  auto updates = Decoded(rib.Start(Session(false), {{V4(10), many}}));
  EXPECT_EQ(updates[0].attributes.communities, many.communities);
}

TEST(AdjRibOutTest, RoutesThatCannotBeEncodedAreReportedAndNotRecorded) {
  RouteAttributes huge;
  for (std::uint32_t i = 0; i < 1100; ++i)
    huge.communities.push_back(StandardCommunity::FromRaw(i));
  AdjRibOut rib;
  RibOutput out = rib.Start(Session(false), {{V4(10), huge}, {V4(11), Backup()}});
  EXPECT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.announced, 1u);
  EXPECT_FALSE(rib.sent().contains(V4(10)));
  // An earlier version of the route is withdrawn rather than left stale.
  rib.Update({{V4(10), Backup()}});
  RibOutput later = rib.Update({{V4(10), huge}});
  EXPECT_EQ(later.withdrawn, 1u);
  EXPECT_TRUE(rib.sent().empty());
}

}  // namespace
}  // namespace bgpcomm::speaker
