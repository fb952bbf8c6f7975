#include "certs/self_signed_manager.h"

#include <gtest/gtest.h>

#include <thread>

#include "certs/certificate_authority.h"
#include "kube/base64.h"
#include "certs/inspect.h"
#include "kube/config.h"
#include "unit/certs/fake_apiserver.h"

namespace bgpcomm::certs {
namespace {

using kube::testing::FakeClock;
using kube::testing::ReadFile;
using kube::testing::TempDir;
using std::chrono::hours;
using testing::FakeApiserver;

const std::string kSecretPath = "/api/v1/namespaces/metallb-system/secrets/bgpcomm-webhook-cert";
const std::string kValidatingPath =
    "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/bgpcomm-validating";
const std::string kMutatingPath =
    "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/bgpcomm-mutating";

nlohmann::json WebhookConfiguration(const std::string& kind, const std::string& name,
                                    std::vector<std::string> webhooks) {
  nlohmann::json object{{"apiVersion", "admissionregistration.k8s.io/v1"},
                        {"kind", kind},
                        {"metadata", {{"name", name}}},
                        {"webhooks", nlohmann::json::array()}};
  for (const auto& webhook : webhooks) {
    object["webhooks"].push_back(
        {{"name", webhook},
         {"clientConfig",
          {{"service", {{"name", "bgpcomm-webhook"}, {"namespace", "metallb-system"}}}}}});
  }
  return object;
}

std::string Data(const nlohmann::json& secret, const std::string& key) {
  return *kube::DecodeBase64(secret["data"][key].get<std::string>());
}

class CertificateManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apiserver_.Put(kValidatingPath,
                   WebhookConfiguration("ValidatingWebhookConfiguration", "bgpcomm-validating",
                                        {"community.bgpcomm.io", "bgpadvertisement.bgpcomm.io"}));
    apiserver_.Put(kMutatingPath,
                   WebhookConfiguration("MutatingWebhookConfiguration", "bgpcomm-mutating",
                                        {"bgpadvertisement.bgpcomm.io"}));
    client_ = *kube::Client::New(kube::RestConfig{.server = apiserver_.Url()});
  }

  CertificateManagerOptions Options(const TempDir& dir) const {
    return {.namespace_name = "metallb-system",
            .service_name = "bgpcomm-webhook",
            .validating_webhook_configuration = "bgpcomm-validating",
            .mutating_webhook_configuration = "bgpcomm-mutating",
            .cert_dir = dir.path(),
            .validity = hours(10),
            .rotate_before = hours(2)};
  }

  // Every webhook of both configurations carries `ca_bundle`.
  void ExpectInjected(const std::string& ca_bundle) {
    for (const auto& path : {kValidatingPath, kMutatingPath}) {
      for (const auto& webhook : (*apiserver_.Object(path))["webhooks"]) {
        EXPECT_EQ(*kube::DecodeBase64(webhook["clientConfig"]["caBundle"].get<std::string>()),
                  ca_bundle)
            << path << " " << webhook["name"];
      }
    }
  }

  FakeApiserver apiserver_;
  FakeClock clock_;
  std::unique_ptr<kube::Client> client_;
};

TEST_F(CertificateManagerTest, CreatesTheSecretWritesFilesAndInjectsTheCa) {
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  EXPECT_FALSE(manager.HasValidCertificate());
  auto reconciled = manager.Reconcile();
  ASSERT_TRUE(reconciled) << reconciled.error();

  auto secret = apiserver_.Object(kSecretPath);
  ASSERT_TRUE(secret);
  EXPECT_EQ((*secret)["type"], "kubernetes.io/tls");
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(*secret, "tls.crt"));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.key"), Data(*secret, "tls.key"));
  EXPECT_EQ(ReadFile(dir.path() + "/ca.crt"), Data(*secret, "ca.crt"));

  auto info = InspectCertificate(Data(*secret, "tls.crt"));
  EXPECT_EQ(info->dns_names,
            (std::vector<std::string>{"bgpcomm-webhook", "bgpcomm-webhook.metallb-system",
                                      "bgpcomm-webhook.metallb-system.svc",
                                      "bgpcomm-webhook.metallb-system.svc.cluster.local"}));
  EXPECT_EQ(info->not_after, clock_.Now() + hours(10));
  EXPECT_TRUE(VerifyCertificate(Data(*secret, "tls.crt"), Data(*secret, "ca.crt"), clock_.Now()));
  EXPECT_TRUE(KeyMatchesCertificate(Data(*secret, "tls.crt"), Data(*secret, "tls.key")));
  EXPECT_EQ(SplitPemBundle(Data(*secret, "ca.crt"))->size(), 1u);
  ExpectInjected(Data(*secret, "ca.crt"));
  EXPECT_TRUE(manager.HasValidCertificate());

  // A second pass changes nothing.
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 0);
  EXPECT_EQ(apiserver_.Count("PUT " + kValidatingPath), 1);
  EXPECT_EQ(apiserver_.Count("PUT " + kMutatingPath), 1);
  EXPECT_EQ(apiserver_.Object(kSecretPath), secret);
}

TEST_F(CertificateManagerTest, AdoptsAValidSecretAnotherReplicaCreated) {
  TempDir first_dir, second_dir;
  CertificateManager first(*client_, clock_, Options(first_dir));
  CertificateManager second(*client_, clock_, Options(second_dir));
  ASSERT_TRUE(first.Reconcile());
  ASSERT_TRUE(second.Reconcile());
  EXPECT_EQ(apiserver_.Count("POST /api/v1/namespaces/metallb-system/secrets"), 1);
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 0);
  EXPECT_EQ(ReadFile(first_dir.path() + "/tls.crt"), ReadFile(second_dir.path() + "/tls.crt"));
}

TEST_F(CertificateManagerTest, TwoReplicasStartingTogetherEndWithOneCertificate) {
  apiserver_.HoldGets(kSecretPath, 2);  // both read "not found" before either creates
  TempDir first_dir, second_dir;
  CertificateManager first(*client_, clock_, Options(first_dir));
  CertificateManager second(*client_, clock_, Options(second_dir));
  std::expected<void, std::string> first_result, second_result;
  {
    std::jthread a([&] { first_result = first.Reconcile(); });
    std::jthread b([&] { second_result = second.Reconcile(); });
  }
  ASSERT_TRUE(first_result) << first_result.error();
  ASSERT_TRUE(second_result) << second_result.error();
  // Both created; one was told AlreadyExists and adopted the winner's Secret.
  EXPECT_EQ(apiserver_.Count("POST /api/v1/namespaces/metallb-system/secrets"), 2);
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 0);
  auto secret = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(ReadFile(first_dir.path() + "/tls.crt"), Data(secret, "tls.crt"));
  EXPECT_EQ(ReadFile(second_dir.path() + "/tls.crt"), Data(secret, "tls.crt"));
  ExpectInjected(Data(secret, "ca.crt"));
}

TEST_F(CertificateManagerTest, ReplacesASecretThatDoesNotNameTheService) {
  auto ca = *GenerateCa({.common_name = "elsewhere", .not_before = clock_.Now()});
  auto leaf = *IssueServing(
      ca, {.common_name = "other", .dns_names = {"other.example"}, .not_before = clock_.Now()});
  apiserver_.Put(kSecretPath, {{"apiVersion", "v1"},
                               {"kind", "Secret"},
                               {"metadata", {{"name", "bgpcomm-webhook-cert"}}},
                               {"data",
                                {{"ca.crt", kube::EncodeBase64(ca.certificate)},
                                 {"tls.crt", kube::EncodeBase64(leaf.certificate)},
                                 {"tls.key", kube::EncodeBase64(leaf.private_key)}}}});
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 1);
  auto secret = *apiserver_.Object(kSecretPath);
  EXPECT_NE(Data(secret, "tls.crt"), leaf.certificate);
  EXPECT_EQ(InspectCertificate(Data(secret, "tls.crt"))->dns_names.front(), "bgpcomm-webhook");
  EXPECT_TRUE(VerifyCertificate(Data(secret, "tls.crt"), Data(secret, "ca.crt"), clock_.Now()));
}

TEST_F(CertificateManagerTest, RotatesBeforeExpiryAndTrustsBothCasUntilTheOldOneExpires) {
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  ASSERT_TRUE(manager.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);

  clock_.Advance(hours(7));  // 3 h left: more than rotate_before
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(*apiserver_.Object(kSecretPath), original);

  clock_.Advance(hours(2));  // 1 h left: rotate
  ASSERT_TRUE(manager.Reconcile());
  auto rotated = *apiserver_.Object(kSecretPath);
  EXPECT_NE(Data(rotated, "tls.crt"), Data(original, "tls.crt"));
  auto bundle = *SplitPemBundle(Data(rotated, "ca.crt"));
  ASSERT_EQ(bundle.size(), 2u);
  EXPECT_EQ(bundle[1], Data(original, "ca.crt"));
  // Clients trusting the bundle accept replicas serving either certificate.
  EXPECT_TRUE(VerifyCertificate(Data(rotated, "tls.crt"), Data(rotated, "ca.crt"), clock_.Now()));
  EXPECT_TRUE(VerifyCertificate(Data(original, "tls.crt"), Data(rotated, "ca.crt"), clock_.Now()));
  ExpectInjected(Data(rotated, "ca.crt"));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(rotated, "tls.crt"));
  EXPECT_EQ(InspectCertificate(Data(rotated, "tls.crt"))->not_after, clock_.Now() + hours(10));

  clock_.Advance(hours(2));  // the previous CA has expired: it leaves the bundle
  ASSERT_TRUE(manager.Reconcile());
  auto pruned = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(pruned, "tls.crt"), Data(rotated, "tls.crt"));
  EXPECT_EQ(Data(pruned, "ca.crt"), bundle[0]);
  ExpectInjected(bundle[0]);
  EXPECT_TRUE(manager.HasValidCertificate());
}

TEST_F(CertificateManagerTest, ConcurrentRotationsLeaveOneNewCertificate) {
  TempDir first_dir, second_dir;
  CertificateManager first(*client_, clock_, Options(first_dir));
  CertificateManager second(*client_, clock_, Options(second_dir));
  ASSERT_TRUE(first.Reconcile());
  ASSERT_TRUE(second.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);
  clock_.Advance(hours(9));

  apiserver_.HoldGets(kSecretPath, 2);  // both see the expiring certificate
  std::expected<void, std::string> first_result, second_result;
  {
    std::jthread a([&] { first_result = first.Reconcile(); });
    std::jthread b([&] { second_result = second.Reconcile(); });
  }
  ASSERT_TRUE(first_result) << first_result.error();
  ASSERT_TRUE(second_result) << second_result.error();
  // Both PUT with the same resourceVersion: one won, the other got 409 and adopted.
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 2);
  auto rotated = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(SplitPemBundle(Data(rotated, "ca.crt"))->size(), 2u);
  EXPECT_EQ(ReadFile(first_dir.path() + "/tls.crt"), Data(rotated, "tls.crt"));
  EXPECT_EQ(ReadFile(second_dir.path() + "/tls.crt"), Data(rotated, "tls.crt"));
  EXPECT_NE(Data(rotated, "tls.crt"), Data(original, "tls.crt"));
}

TEST_F(CertificateManagerTest, AMissingWebhookConfigurationFailsThePassAfterTheFiles) {
  TempDir dir;
  auto options = Options(dir);
  options.mutating_webhook_configuration = "absent";
  CertificateManager manager(*client_, clock_, options);
  auto reconciled = manager.Reconcile();
  ASSERT_FALSE(reconciled);
  EXPECT_EQ(reconciled.error(),
            "get mutatingwebhookconfigurations absent: HTTP 404 NotFound: "
            "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/absent not "
            "found");
  EXPECT_TRUE(manager.HasValidCertificate());
  EXPECT_FALSE(ReadFile(dir.path() + "/tls.crt").empty());
  for (const auto& webhook : (*apiserver_.Object(kValidatingPath))["webhooks"]) {
    EXPECT_TRUE(webhook["clientConfig"].contains("caBundle"));
  }
}

}  // namespace
}  // namespace bgpcomm::certs
