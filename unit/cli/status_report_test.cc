#include "cli/status_report.h"

#include <gtest/gtest.h>

#include "speaker/status_core.h"

namespace bgpcomm::cli {
namespace {

using Json = nlohmann::json;

PreviewRoute Route(std::string prefix, std::string not_sent = "") {
  PreviewRoute r;
  r.prefix = std::move(prefix);
  r.family = "ipv4";
  r.not_sent = std::move(not_sent);
  return r;
}

// One node, peers a (two routes, one of another family the session does not carry) and b.
Preview Predicted() {
  Preview p;
  PreviewNode node;
  node.name = "node-a";
  PreviewPeer a;
  a.name = "router-a";
  a.address = "198.51.100.9";
  a.routes = {Route("203.0.113.10/32"), Route("2001:db8:1::10/128", "session carries ipv4 only")};
  PreviewPeer b;
  b.name = "router-b";
  b.address = "198.51.100.13";
  b.routes = {Route("203.0.113.10/32")};
  node.peers = {a, b};
  p.nodes = {node};
  p.refused = {{{"BGPAdvertisement", "metallb-system", "bad"}, "annotation missing"}};
  return p;
}

Json Session(std::string peer, std::string state, std::vector<std::string> prefixes,
             std::string error = "") {
  return {{"metadata", {{"name", "node-a-" + peer}}},
          {"status",
           {{"node", "node-a"},
            {"peer", "198.51.100.9"},
            {"bgpPeer", "metallb-system/" + peer},
            {"bgpStatus", state},
            {"bfdStatus", "N/A"},
            {"since", "2026-01-01T00:00:00Z"},
            {"prefixesSent", prefixes.size()},
            {"prefixesDigest", speaker::status::PrefixesDigest(prefixes)},
            {"prefixes", prefixes},
            {"lastError", error},
            {"unansweredConnects", 0}}}};
}

auto Now() {
  return std::chrono::system_clock::from_time_t(1767225600 + 90);  // 2026-01-01T00:01:30Z
}

TEST(StatusReportTest, HealthyWhenEverySessionIsUpAndEveryPredictedRouteSent) {
  auto report = BuildStatusReport(
      {Predicted()},
      {Session("router-a", "Established", {"203.0.113.10/32"}),
       Session("router-b", "Established", {"203.0.113.10/32"})},
      {}, Now());
  EXPECT_TRUE(report.healthy()) << StatusText(report);
  ASSERT_EQ(report.nodes.size(), 1u);
  ASSERT_EQ(report.nodes[0].sessions.size(), 2u);
  EXPECT_EQ(report.nodes[0].sessions[0].uptime_seconds, 90);
  EXPECT_NE(StatusText(report).find("router-a 198.51.100.9 Established up 1m30s prefixes-sent 1"),
            std::string::npos)
      << StatusText(report);
  EXPECT_NE(StatusText(report).find("refused BGPAdvertisement metallb-system/bad: annotation missing"),
            std::string::npos);
  EXPECT_EQ(StatusJson(report)["healthy"], true);
}

TEST(StatusReportTest, ADeadPeerIsNamedWithItsErrorAndItsMissingRoutes) {
  auto report = BuildStatusReport(
      {Predicted()},
      {Session("router-a", "Established", {"203.0.113.10/32"}),
       Session("router-b", "Active", {}, "connect: Connection refused")},
      {}, Now());
  EXPECT_FALSE(report.healthy());
  EXPECT_EQ(report.sessions_down, 1);
  EXPECT_EQ(report.routes_missing, 1);
  std::string text = StatusText(report);
  EXPECT_NE(text.find("router-b 198.51.100.9 Active prefixes-sent 0  SESSION DOWN"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("last error: connect: Connection refused"), std::string::npos);
  EXPECT_NE(text.find("missing (predicted, not sent): 203.0.113.10/32"), std::string::npos);
  auto j = StatusJson(report);
  EXPECT_EQ(j["nodes"][0]["sessions"][1]["bgpPeer"], "router-b");
  EXPECT_EQ(j["nodes"][0]["sessions"][1]["down"], true);
}

TEST(StatusReportTest, AnUnreportedSessionIsDown) {
  auto report = BuildStatusReport({Predicted()},
                                  {Session("router-a", "Established", {"203.0.113.10/32"})},
                                  {}, Now());
  EXPECT_EQ(report.sessions_down, 1);
  EXPECT_EQ(report.nodes[0].sessions[1].state, "Unreported");
}

TEST(StatusReportTest, WithoutAListTheDigestIsCompared) {
  Json same = Session("router-a", "Established", {"203.0.113.10/32"});
  same["status"].erase("prefixes");
  Json other = Session("router-b", "Established", {"203.0.113.11/32"});
  other["status"].erase("prefixes");
  auto report = BuildStatusReport({Predicted()}, {same, other}, {}, Now());
  EXPECT_FALSE(report.nodes[0].sessions[0].digest_differs);
  EXPECT_TRUE(report.nodes[0].sessions[1].digest_differs);
  EXPECT_EQ(report.routes_missing, 1);
}

TEST(StatusReportTest, ConfigurationStatesOfTheSpeakerAndTheAllocatorAreShown) {
  Json speaker = {{"metadata",
                   {{"name", "speaker-node-a"},
                    {"labels", {{"bgpcomm.io/component", "speaker"}, {"bgpcomm.io/node", "node-a"}}}}},
                  {"status", {{"result", "Invalid"}, {"errorSummary", "BGPAdvertisement x refused"}}}};
  Json allocator = {{"metadata", {{"name", "allocator"}, {"labels", {{"bgpcomm.io/component", "allocator"}}}}},
                    {"status", {{"result", "Valid"}, {"errorSummary", ""}}}};
  auto report = BuildStatusReport(
      {Predicted()},
      {Session("router-a", "Established", {"203.0.113.10/32"}),
       Session("router-b", "Established", {"203.0.113.10/32"})},
      {speaker, allocator}, Now());
  std::string text = StatusText(report);
  EXPECT_NE(text.find("node node-a (configuration Invalid)"), std::string::npos) << text;
  EXPECT_NE(text.find("refused: BGPAdvertisement x refused"), std::string::npos);
  EXPECT_NE(text.find("allocator configuration Valid"), std::string::npos);
}

}  // namespace
}  // namespace bgpcomm::cli
