#include "certs/inspect.h"

#include <gtest/gtest.h>

#include "certs/certificate_authority.h"

namespace bgpcomm::certs {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

const system_clock::time_point kStart = system_clock::from_time_t(1'800'000'000);

PemPair Ca(const std::string& name) {
  return *GenerateCa({.common_name = name, .not_before = kStart, .validity = hours(10)});
}

PemPair Leaf(const PemPair& ca) {
  return *IssueServing(ca, {.common_name = "svc.ns.svc",
                            .dns_names = {"svc", "svc.ns.svc"},
                            .ip_addresses = {"127.0.0.1"},
                            .not_before = kStart,
                            .validity = hours(10)});
}

TEST(InspectTest, ReadsValidityNamesAndCaFlag) {
  auto ca = Ca("test-ca");
  auto leaf = Leaf(ca);
  auto info = InspectCertificate(leaf.certificate);
  ASSERT_TRUE(info) << info.error();
  EXPECT_EQ(info->not_before, kStart);
  EXPECT_EQ(info->not_after, kStart + hours(10));
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"svc", "svc.ns.svc"}));
  EXPECT_FALSE(info->is_ca);
  EXPECT_TRUE(InspectCertificate(ca.certificate)->is_ca);
  EXPECT_EQ(InspectCertificate("garbage").error(), "no PEM certificate");
}

TEST(InspectTest, MatchesKeysAndVerifiesChainsAtAGivenTime) {
  auto ca = Ca("test-ca");
  auto other = Ca("other-ca");
  auto leaf = Leaf(ca);
  EXPECT_TRUE(KeyMatchesCertificate(leaf.certificate, leaf.private_key));
  EXPECT_FALSE(KeyMatchesCertificate(leaf.certificate, other.private_key));

  EXPECT_TRUE(VerifyCertificate(leaf.certificate, ca.certificate, kStart + hours(1)));
  EXPECT_TRUE(
      VerifyCertificate(leaf.certificate, other.certificate + ca.certificate, kStart + hours(1)));
  EXPECT_EQ(VerifyCertificate(leaf.certificate, other.certificate, kStart + hours(1)).error(),
            "unable to get local issuer certificate");
  EXPECT_EQ(VerifyCertificate(leaf.certificate, ca.certificate, kStart + hours(11)).error(),
            "certificate has expired");
}

TEST(InspectTest, SplitsBundles) {
  auto a = Ca("a");
  auto b = Ca("b");
  auto split = SplitPemBundle(a.certificate + b.certificate);
  ASSERT_TRUE(split);
  EXPECT_EQ(*split, (std::vector<std::string>{a.certificate, b.certificate}));
  EXPECT_FALSE(SplitPemBundle(""));
}

}  // namespace
}  // namespace bgpcomm::certs
