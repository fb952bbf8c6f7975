#include "certs/self_signed_manager.h"

#include <gtest/gtest.h>

#include <thread>

#include "certs/certificate_authority.h"
#include "certs/inspect.h"
#include "kube/base64.h"
#include "kube/config.h"
#include "unit/certs/fake_apiserver.h"

namespace bgpcomm::certs {
namespace {

using kube::testing::FakeClock;
using kube::testing::ReadFile;
using kube::testing::TempDir;
using std::chrono::hours;
using std::chrono::minutes;
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
            .rotate_before = hours(2),
            .rollover_delay = minutes(10)};
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

std::string Annotation(const nlohmann::json& secret, const std::string& key) {
  const auto& metadata = secret["metadata"];
  if (!metadata.contains("annotations") || !metadata["annotations"].contains(key)) return "";
  return metadata["annotations"][key].get<std::string>();
}

TEST_F(CertificateManagerTest, RotatesInThreeStepsSoThatEveryServedCertificateIsTrusted) {
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  ASSERT_TRUE(manager.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);

  clock_.Advance(hours(7));  // 3 h left: more than rotate_before
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(*apiserver_.Object(kSecretPath), original);

  // Step 1, publish (1 h left): the new CA is trusted beside the old one; the old pair
  // still serves and the new one waits in next.crt.
  clock_.Advance(hours(2));
  ASSERT_TRUE(manager.Reconcile());
  auto published = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(published, "tls.crt"), Data(original, "tls.crt"));
  EXPECT_EQ(Data(published, "tls.key"), Data(original, "tls.key"));
  auto bundle = *SplitPemBundle(Data(published, "ca.crt"));
  ASSERT_EQ(bundle.size(), 2u);
  EXPECT_EQ(bundle[0], Data(original, "ca.crt"));
  EXPECT_TRUE(VerifyCertificate(Data(published, "next.crt"), bundle[1], clock_.Now()));
  EXPECT_TRUE(KeyMatchesCertificate(Data(published, "next.crt"), Data(published, "next.key")));
  EXPECT_EQ(InspectCertificate(Data(published, "next.crt"))->not_after, clock_.Now() + hours(10));
  EXPECT_EQ(Annotation(published, kCaPublishedAnnotation), "2027-01-15T17:00:00Z");
  ExpectInjected(Data(published, "ca.crt"));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(original, "tls.crt"));

  // Before rollover_delay has passed nothing moves on.
  clock_.Advance(minutes(9));
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(*apiserver_.Object(kSecretPath), published);

  // Step 2, switch: the new pair serves; both CAs stay trusted.
  clock_.Advance(minutes(1));
  ASSERT_TRUE(manager.Reconcile());
  auto switched = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(switched, "tls.crt"), Data(published, "next.crt"));
  EXPECT_EQ(Data(switched, "tls.key"), Data(published, "next.key"));
  EXPECT_FALSE(switched["data"].contains("next.crt"));
  EXPECT_FALSE(switched["data"].contains("next.key"));
  EXPECT_EQ(Data(switched, "ca.crt"), Data(published, "ca.crt"));
  EXPECT_EQ(Annotation(switched, kCaPublishedAnnotation), "");
  EXPECT_EQ(Annotation(switched, kServingSwitchedAnnotation), "2027-01-15T17:10:00Z");
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(switched, "tls.crt"));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.key"), Data(switched, "tls.key"));
  ExpectInjected(Data(published, "ca.crt"));

  clock_.Advance(minutes(9));
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(*apiserver_.Object(kSecretPath), switched);

  // Step 3, drop: rollover_delay after the switch only the new CA stays.
  clock_.Advance(minutes(1));
  ASSERT_TRUE(manager.Reconcile());
  auto dropped = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(dropped, "tls.crt"), Data(switched, "tls.crt"));
  EXPECT_EQ(Data(dropped, "ca.crt"), bundle[1]);
  EXPECT_EQ(Annotation(dropped, kServingSwitchedAnnotation), "");
  ExpectInjected(bundle[1]);
  EXPECT_EQ(ReadFile(dir.path() + "/ca.crt"), bundle[1]);
  EXPECT_TRUE(manager.HasValidCertificate());
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(*apiserver_.Object(kSecretPath), dropped);
}

TEST_F(CertificateManagerTest, ASecondReplicaServesTheOldPairUntilTheSwitch) {
  TempDir first_dir, second_dir;
  CertificateManager first(*client_, clock_, Options(first_dir));
  CertificateManager second(*client_, clock_, Options(second_dir));
  ASSERT_TRUE(first.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);
  clock_.Advance(hours(9));
  ASSERT_TRUE(first.Reconcile());  // publishes
  ASSERT_TRUE(second.Reconcile());
  EXPECT_EQ(ReadFile(second_dir.path() + "/tls.crt"), Data(original, "tls.crt"));
  auto published = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(ReadFile(second_dir.path() + "/ca.crt"), Data(published, "ca.crt"));
  clock_.Advance(minutes(10));
  ASSERT_TRUE(second.Reconcile());  // any replica carries the rotation on
  EXPECT_EQ(ReadFile(second_dir.path() + "/tls.crt"), Data(published, "next.crt"));
  ASSERT_TRUE(first.Reconcile());
  EXPECT_EQ(ReadFile(first_dir.path() + "/tls.crt"), Data(published, "next.crt"));
  EXPECT_EQ(apiserver_.Count("PUT " + kSecretPath), 2);  // publish, switch
}

TEST_F(CertificateManagerTest, NoSwitchBeforeEveryCaBundleCarriesTheNewCa) {
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  ASSERT_TRUE(manager.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);
  // The mutating configuration cannot be updated (gone): its caBundle never gets the
  // new CA, so the new pair must never serve.
  apiserver_.Remove(kMutatingPath);
  clock_.Advance(hours(9));
  EXPECT_FALSE(manager.Reconcile());
  clock_.Advance(hours(1) - minutes(1));
  EXPECT_FALSE(manager.Reconcile());
  auto secret = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(secret, "tls.crt"), Data(original, "tls.crt"));
  EXPECT_TRUE(secret["data"].contains("next.crt"));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(original, "tls.crt"));
  // Once it is back and injected, the switch follows in the same pass.
  apiserver_.Put(kMutatingPath,
                 WebhookConfiguration("MutatingWebhookConfiguration", "bgpcomm-mutating",
                                      {"bgpadvertisement.bgpcomm.io"}));
  ASSERT_TRUE(manager.Reconcile());
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(secret, "next.crt"));
  ExpectInjected(Data(secret, "ca.crt"));
}

TEST_F(CertificateManagerTest, AnExpiredCertificateIsReplacedAtOnce) {
  TempDir dir;
  CertificateManager manager(*client_, clock_, Options(dir));
  ASSERT_TRUE(manager.Reconcile());
  auto original = *apiserver_.Object(kSecretPath);
  clock_.Advance(hours(11));  // expired while no replica ran: nothing serves it anyway
  ASSERT_TRUE(manager.Reconcile());
  auto replaced = *apiserver_.Object(kSecretPath);
  EXPECT_NE(Data(replaced, "tls.crt"), Data(original, "tls.crt"));
  EXPECT_FALSE(replaced["data"].contains("next.crt"));
  EXPECT_TRUE(VerifyCertificate(Data(replaced, "tls.crt"), Data(replaced, "ca.crt"), clock_.Now()));
  EXPECT_EQ(ReadFile(dir.path() + "/tls.crt"), Data(replaced, "tls.crt"));
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
  auto published = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(SplitPemBundle(Data(published, "ca.crt"))->size(), 2u);
  EXPECT_EQ(Data(published, "tls.crt"), Data(original, "tls.crt"));
  clock_.Advance(minutes(10));
  ASSERT_TRUE(first.Reconcile());
  ASSERT_TRUE(second.Reconcile());
  auto rotated = *apiserver_.Object(kSecretPath);
  EXPECT_EQ(Data(rotated, "tls.crt"), Data(published, "next.crt"));
  EXPECT_EQ(ReadFile(first_dir.path() + "/tls.crt"), Data(rotated, "tls.crt"));
  EXPECT_EQ(ReadFile(second_dir.path() + "/tls.crt"), Data(rotated, "tls.crt"));
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
