#include "webhook/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "certs/certificate_authority.h"
#include "unit/webhook/review_fixtures.h"
#include "unit/webhook/tls_test_client.h"

namespace bgpcomm::webhook {
namespace {

using testing::FakeView;
using ::testing::HasSubstr;
using testing::ReadReview;
using ::testing::StartsWith;
using testing::TlsTestClient;
using testing::Walkthrough;

struct Pki {
  certs::PemPair ca;
  certs::PemPair serving;
};

Pki MakePki(const std::string& common_name) {
  certs::CertificateRequest request{
      .common_name = common_name + " CA",
      .not_before = std::chrono::system_clock::now() - std::chrono::minutes(1)};
  auto ca = certs::GenerateCa(request);
  EXPECT_TRUE(ca.has_value());
  request.common_name = common_name;
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1"};
  auto serving = certs::IssueServing(*ca, request);
  EXPECT_TRUE(serving.has_value());
  return {*ca, *serving};
}

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path) << content;
}

std::string Post(std::string_view path, std::string_view body,
                 std::string_view content_type = "application/json") {
  return "POST " + std::string(path) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + std::string(content_type) +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bgpcomm-server-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    pki_ = MakePki("webhook-one");
    WriteFile(dir_ / "tls.crt", pki_.serving.certificate);
    WriteFile(dir_ / "tls.key", pki_.serving.private_key);
    auto certificate = certs::ServingCertificate::Load(dir_ / "tls.crt", dir_ / "tls.key",
                                                       std::chrono::milliseconds(0));
    ASSERT_TRUE(certificate.has_value()) << certificate.error();
    certificate_ = std::move(*certificate);
    view_ = FakeView::Of(Walkthrough(false));
    ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 4};
    options.read_timeout = std::chrono::seconds(1);
    server_ = std::make_unique<WebhookServer>(
        options, *certificate_,
        [this](Endpoint endpoint, const AdmissionRequest& request) {
          if (hold_) {
            std::unique_lock lock(mutex_);
            held_ = true;
            changed_.notify_all();
            changed_.wait(lock, [this] { return !hold_; });
          }
          if (throw_) throw std::runtime_error("secret internal detail");
          return Decide(endpoint, request, view_, {});
        },
        metrics_, [this] { return ready_.load(); });
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
    serving_ = std::jthread([this] { server_->Serve(); });
  }

  void TearDown() override {
    Release();
    if (server_) server_->Shutdown();
    if (serving_.joinable()) serving_.join();
    std::filesystem::remove_all(dir_);
  }

  void Release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }

  std::unique_ptr<TlsTestClient> Connect() {
    auto client = std::make_unique<TlsTestClient>(port_, pki_.ca.certificate);
    EXPECT_TRUE(client->connected());
    return client;
  }

  std::filesystem::path dir_;
  Pki pki_;
  std::unique_ptr<certs::ServingCertificate> certificate_;
  FakeView view_;
  WebhookMetrics metrics_;
  std::atomic<bool> ready_{true};
  std::unique_ptr<WebhookServer> server_;
  int port_ = 0;
  std::jthread serving_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool held_ = false;
  std::atomic<bool> throw_{false};
};

TEST_F(ServerTest, AnswersARecordedReviewOverTls) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*response, HasSubstr("Content-Type: application/json"));
  EXPECT_THAT(*response, HasSubstr(R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":true,)"
                                   R"("patchType":"JSONPatch")"));
  // Keep-alive: the same connection answers again.
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-advert-typo.json"))));
  auto second = client->ReadResponse();
  ASSERT_TRUE(second.has_value());
  EXPECT_THAT(*second, HasSubstr(R"("allowed":false,"status":{"code":422,"reason":"Invalid")"));
}

TEST_F(ServerTest, WrongContentTypeIs415) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-community", "{}", "text/plain")));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 415 "));
  EXPECT_THAT(*response, HasSubstr("Content-Type must be application/json, got \\\"text/plain\\\""));
  // Still an AdmissionReview, with the request's UID.
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-community",
                                R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                                R"("request":{"uid":"uid-415"}})",
                                "text/plain")));
  auto with_uid = client->ReadResponse();
  ASSERT_TRUE(with_uid.has_value());
  EXPECT_THAT(*with_uid, StartsWith("HTTP/1.1 415 "));
  EXPECT_THAT(*with_uid, HasSubstr(R"("uid":"uid-415","allowed":false,"status":{"code":415)"));
}

TEST_F(ServerTest, AHandlerExceptionIsAReviewWithoutTheExceptionText) {
  throw_ = true;
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 500 "));
  EXPECT_THAT(*response, HasSubstr(R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":false,)"
                                   R"("status":{"code":500,"reason":"InternalError")"));
  EXPECT_THAT(*response, ::testing::Not(HasSubstr("secret internal detail")));
}

TEST_F(ServerTest, MalformedJsonIs400AndEchoesTheUid) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-community", "{not json")));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(*response, HasSubstr("malformed AdmissionReview: malformed JSON at offset 1"));

  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-community",
                                R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",)"
                                R"("request":{"uid":"echo-me"}})")));
  auto with_uid = client->ReadResponse();
  ASSERT_TRUE(with_uid.has_value());
  EXPECT_THAT(*with_uid, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(*with_uid, HasSubstr(R"("uid":"echo-me","allowed":false)"));
}

TEST_F(ServerTest, BodyOver7MiBIs413BeforeItIsRead) {
  auto client = Connect();
  std::string head =
      "POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/json\r\nContent-Length: 8388608\r\n\r\n";
  ASSERT_TRUE(client->Send(head));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(*response, HasSubstr("body of 8388608 bytes exceeds the limit of 7340032 bytes"));
  EXPECT_TRUE(client->ClosedByServer());
}

TEST_F(ServerTest, DuplicateContentLengthIsRefusedAndTheConnectionClosed) {
  auto client = Connect();
  // A smuggling attempt: the second request hides in the first one's body.
  std::string smuggled = Post("/noop", "{}");
  std::string request =
      "POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: " +
      std::to_string(2 + smuggled.size()) + "\r\n\r\n{}" + smuggled;
  ASSERT_TRUE(client->Send(request));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(*response, HasSubstr("more than one Content-Length header"));
  // The hidden request is never answered: the connection ends instead.
  EXPECT_EQ(client->ReadResponse(std::chrono::seconds(5)), std::nullopt);
  EXPECT_TRUE(client->ClosedByServer());
}

TEST_F(ServerTest, ContentLengthWithTransferEncodingIsRefused) {
  auto client = Connect();
  ASSERT_TRUE(
      client->Send("POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n"
                   "Content-Type: application/json\r\nContent-Length: 4\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(*response, HasSubstr("Transfer-Encoding is not accepted"));
  EXPECT_TRUE(client->ClosedByServer());
}

TEST_F(ServerTest, TenThousandHeadersAre431) {
  auto client = Connect();
  std::string request =
      "POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 10000; ++i) request += "X-Flood-" + std::to_string(i) + ": x\r\n";
  request += "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_TRUE(client->Send(request));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(*response, HasSubstr("10003 headers; at most 100 are accepted"));
}

TEST_F(ServerTest, AStalledClientIsCutOffAndOthersAreServed) {
  auto stalled = Connect();
  ASSERT_TRUE(
      stalled->Send("POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n"
                    "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"kind\":"));
  auto other = Connect();
  ASSERT_TRUE(other->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                               ReadReview("create-primary-advert.json"))));
  auto response = other->ReadResponse(std::chrono::seconds(5));
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 "));
  // The read timeout (1 s here) closes the stalled connection.
  EXPECT_TRUE(stalled->ClosedByServer(std::chrono::seconds(5)));
}

TEST_F(ServerTest, OldTlsVersionsAreRefused) {
  TlsTestClient tls11(port_, pki_.ca.certificate, TLS1_1_VERSION);
  EXPECT_FALSE(tls11.connected());
  TlsTestClient tls12(port_, pki_.ca.certificate, TLS1_2_VERSION);
  EXPECT_TRUE(tls12.connected());
}

TEST_F(ServerTest, ReloadsTheCertificateWithoutDroppingConnections) {
  auto before = Connect();
  EXPECT_EQ(before->PeerCommonName(), "webhook-one");
  Pki next = MakePki("webhook-two");
  WriteFile(dir_ / "tls.key", next.serving.private_key);
  WriteFile(dir_ / "tls.crt", next.serving.certificate);
  TlsTestClient after(port_, next.ca.certificate);
  ASSERT_TRUE(after.connected());
  EXPECT_EQ(after.PeerCommonName(), "webhook-two");
  EXPECT_EQ(certificate_->reloads(), 1);
  // The connection made before the rotation still works.
  ASSERT_TRUE(before->Send(Post("/noop", "{}")));
  auto response = before->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 "));
}

TEST_F(ServerTest, HealthAndReadiness) {
  auto client = Connect();
  ASSERT_TRUE(client->Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto health = client->ReadResponse();
  ASSERT_TRUE(health.has_value());
  EXPECT_THAT(*health, StartsWith("HTTP/1.1 200 "));
  ready_ = false;
  ASSERT_TRUE(client->Send("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto not_ready = client->ReadResponse();
  ASSERT_TRUE(not_ready.has_value());
  EXPECT_THAT(*not_ready, StartsWith("HTTP/1.1 503 "));
  ready_ = true;
  ASSERT_TRUE(client->Send("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto ready = client->ReadResponse();
  ASSERT_TRUE(ready.has_value());
  EXPECT_THAT(*ready, StartsWith("HTTP/1.1 200 "));
}

// The start of a drain (--shutdown-delay): /readyz fails at once, while admission
// requests are still answered on the same and on new connections.
TEST_F(ServerTest, StopReadyFailsReadinessButKeepsServing) {
  auto client = Connect();
  server_->StopReady();
  EXPECT_FALSE(server_->ready_to_serve());
  EXPECT_TRUE(server_->accepting());
  ASSERT_TRUE(client->Send("GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto not_ready = client->ReadResponse();
  ASSERT_TRUE(not_ready.has_value());
  EXPECT_THAT(*not_ready, StartsWith("HTTP/1.1 503 "));
  ASSERT_TRUE(client->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
  auto answered = client->ReadResponse();
  ASSERT_TRUE(answered.has_value());
  EXPECT_THAT(*answered, StartsWith("HTTP/1.1 200 OK\r\n"));
  auto fresh = Connect();
  ASSERT_TRUE(fresh->Send(Post("/noop", "{}")));
  auto noop = fresh->ReadResponse();
  ASSERT_TRUE(noop.has_value());
  EXPECT_THAT(*noop, StartsWith("HTTP/1.1 200 "));
}

TEST_F(ServerTest, ShutdownAnswersTheRequestInFlight) {
  hold_ = true;
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
  {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(changed_.wait_for(lock, std::chrono::seconds(10), [this] { return held_; }));
  }
  std::jthread stopping([this] { server_->Shutdown(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server_->accepting() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_FALSE(server_->accepting());
  Release();
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(*response, HasSubstr(R"("allowed":true)"));
}

// The apiserver keeps connections to webhooks open between requests. An idle one must
// not hold a SIGTERM drain for long: cpp-httplib 0.11 notices a stop only when the
// keep-alive wait ends, so the default keep-alive timeout bounds the drain.
TEST_F(ServerTest, ShutdownIsNotHeldByAnIdleKeepAliveConnection) {
  EXPECT_LE(ServerOptions{}.keep_alive_timeout, std::chrono::seconds(5));
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-advert-typo.json"))));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  serving_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            ServerOptions{}.keep_alive_timeout + std::chrono::seconds(3));
}

}  // namespace
}  // namespace bgpcomm::webhook
