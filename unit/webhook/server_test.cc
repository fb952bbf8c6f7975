#include "webhook/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

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
    // Clients here write to connections the server has closed.
    signal(SIGPIPE, SIG_IGN);
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
    options.connections.request_timeout = std::chrono::seconds(1);
    Start(options);
  }

  // Runs a server with `options` (after stopping the one running, if any).
  void Start(const ServerOptions& options) {
    StopServer();
    server_ = std::make_unique<WebhookServer>(
        options, *certificate_,
        [this](Endpoint endpoint, const AdmissionRequest& request, bool may_block) {
          if (hold_ && !may_block) throw WouldBlock();  // a held handler waits on a worker
          if (always_would_block_) throw WouldBlock();
          if (hold_) {
            std::unique_lock lock(mutex_);
            ++held_count_;
            held_ = true;
            changed_.notify_all();
            changed_.wait(lock, [this] { return !hold_; });
          }
          if (throw_) throw std::runtime_error("secret internal detail");
          if (!may_block) {
            ++inline_calls_;
            io_thread_ = std::this_thread::get_id();
          }
          return Decide(endpoint, request, view_, {}, may_block);
        },
        metrics_, [this] { return ready_.load(); });
    auto port = server_->Bind();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
    serving_ = std::jthread([this] { server_->Serve(); });
  }

  void StopServer() {
    Release();
    if (server_) server_->Shutdown();
    if (serving_.joinable()) serving_.join();
    server_.reset();
  }

  // The value of counter `name` with label `label`=`value` (0 when it was never counted).
  double Counter(const std::string& name, const std::string& label, const std::string& value) {
    for (const auto& family : metrics_.registry()->Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        for (const auto& pair : metric.label) {
          if (pair.name == label && pair.value == value) return metric.counter.value;
        }
      }
    }
    return 0;
  }

  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  void Release() {
    std::lock_guard lock(mutex_);
    hold_ = false;
    changed_.notify_all();
  }

  // The response to the recorded create of primary-advert on the mutating endpoint ("" if
  // none came).
  std::string MutatePrimaryAdvert(TlsTestClient& client) {
    EXPECT_TRUE(client.Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                 ReadReview("create-primary-advert.json"))));
    return client.ReadResponse().value_or("");
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
  int held_count_ = 0;
  std::atomic<bool> throw_{false};
  std::atomic<bool> always_would_block_{false};  // even on a worker (a wrong handler)
  std::atomic<int> inline_calls_{0};  // handler calls on the I/O thread
  std::thread::id io_thread_;         // set by the first of them
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

// An idle server judges a request on its I/O thread (no hand-off to a worker).
TEST_F(ServerTest, AnIdleServerJudgesOnItsIoThread) {
  auto client = Connect();
  EXPECT_THAT(MutatePrimaryAdvert(*client), HasSubstr(R"("allowed":true,"patchType":"JSONPatch")"));
  EXPECT_EQ(inline_calls_.load(), 1);
}

// A denial reads through first. The I/O thread must not wait for that: the request moves
// to a worker, which reads through once, and the answer is the same.
TEST_F(ServerTest, ADenialReadsThroughOnAWorker) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-advert-typo.json"))));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, HasSubstr(R"("allowed":false,"status":{"code":422,"reason":"Invalid")"));
  EXPECT_EQ(inline_calls_.load(), 1);  // tried on the I/O thread, which did not wait
  EXPECT_EQ(view_.read_throughs, 1);   // read through once, on a worker
  EXPECT_NE(view_.read_through_thread, io_thread_);
}

TEST_F(ServerTest, WithoutJudgeInlineEveryRequestGoesToAWorker) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 2};
  options.judge_inline = false;
  Start(options);
  auto client = Connect();
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(MutatePrimaryAdvert(*client),
                HasSubstr(R"("allowed":true,"patchType":"JSONPatch")"));
  }
  EXPECT_EQ(inline_calls_.load(), 0);
}

TEST_F(ServerTest, WrongContentTypeIs415) {
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-community", "{}", "text/plain")));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 415 "));
  EXPECT_THAT(*response,
              HasSubstr("Content-Type must be application/json, got \\\"text/plain\\\""));
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
  EXPECT_THAT(*response,
              HasSubstr(R"("uid":"705ab4f5-6393-11e8-b7cc-42010a800002","allowed":false,)"
                        R"("status":{"code":500,"reason":"InternalError")"));
  EXPECT_THAT(*response, ::testing::Not(HasSubstr("secret internal detail")));
}

// WouldBlock from a worker's handler, which may block, is the handler's error: answered as
// one, and the server goes on.
TEST_F(ServerTest, WouldBlockOnAWorkerIsAnInternalError) {
  always_would_block_ = true;
  auto client = Connect();
  std::string response = MutatePrimaryAdvert(*client);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 500 "));
  EXPECT_THAT(response, HasSubstr(R"("status":{"code":500,"reason":"InternalError")"));
  always_would_block_ = false;
  EXPECT_THAT(MutatePrimaryAdvert(*client), HasSubstr(R"("allowed":true,"patchType":"JSONPatch")"));
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
  EXPECT_THAT(*response, HasSubstr("the request line and headers exceed 65536 bytes"));
  EXPECT_TRUE(client->ClosedByServer());
}

TEST_F(ServerTest, MoreThan100HeadersAre431) {
  auto client = Connect();
  std::string request =
      "POST /validate-metallb-io-v1beta1-community HTTP/1.1\r\nHost: localhost\r\n";
  for (int i = 0; i < 150; ++i) request += "X-Flood-" + std::to_string(i) + ": x\r\n";
  request += "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_TRUE(client->Send(request));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 431 "));
  EXPECT_THAT(*response, HasSubstr("153 headers; at most 100 are accepted"));
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
// not hold a SIGTERM drain for long: the idle timeout bounds the drain.
TEST_F(ServerTest, ShutdownIsNotHeldByAnIdleKeepAliveConnection) {
  EXPECT_LE(ServerOptions{}.connections.idle_timeout, std::chrono::seconds(5));
  auto client = Connect();
  ASSERT_TRUE(client->Send(Post("/validate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-advert-typo.json"))));
  auto response = client->ReadResponse();
  ASSERT_TRUE(response.has_value());
  auto start = std::chrono::steady_clock::now();
  server_->Shutdown();
  serving_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            ServerOptions{}.connections.idle_timeout + std::chrono::seconds(3));
}

// A plain TCP connection to the server, for clients that never finish a TLS handshake.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // What arrives until `needle` is in it or `deadline` passes.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds deadline) {
    std::string got;
    auto until = std::chrono::steady_clock::now() + deadline;
    while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char chunk[4096];
      ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      got.append(chunk, static_cast<std::size_t>(n));
    }
    return got;
  }
  // True when the server has closed: EOF or a reset.
  bool Closed() {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    char byte;
    return recv(fd_, &byte, 1, MSG_DONTWAIT) <= 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// The first bytes of a TLS ClientHello record (the record header announces more).
constexpr char kClientHelloStart[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

// Sends one more byte every 200 ms until the server closes; the time it took, or
// nullopt when it was still open after `limit`.
template <typename Client, typename SendByte>
std::optional<std::chrono::milliseconds> TrickleUntilClosed(Client& client, SendByte send_byte,
                                                            std::chrono::milliseconds limit) {
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; std::chrono::steady_clock::now() - start < limit; ++i) {
    if (client.Closed() || !send_byte(i)) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return std::nullopt;
}

// The old server read with a timeout per read: a byte every 200 ms held a worker
// forever. The request deadline (1 s here) counts from the request's first byte.
TEST_F(ServerTest, ATricklingRequestIsCutAtItsTotalDeadline) {
  auto client = Connect();
  std::string request = Post("/validate-metallb-io-v1beta1-community", "{}");
  struct Probe {
    TlsTestClient& client;
    bool Closed() { return client.ClosedByServer(std::chrono::milliseconds(1)); }
  } probe{*client};
  auto took = TrickleUntilClosed(
      probe, [&](std::size_t i) { return client->Send(request.substr(i % request.size(), 1)); },
      std::chrono::seconds(5));
  ASSERT_TRUE(took.has_value()) << "a trickling request was never cut off";
  EXPECT_GE(*took, std::chrono::milliseconds(800));
  EXPECT_LE(*took, std::chrono::milliseconds(2500));
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_timed_out_total", "phase", "reading"), 1);
}

TEST_F(ServerTest, ATricklingHandshakeIsCutAtTheHandshakeDeadline) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 4};
  options.connections.handshake_timeout = std::chrono::seconds(1);
  Start(options);
  RawClient raw(port_);
  ASSERT_TRUE(raw.connected());
  std::string_view hello(kClientHelloStart, sizeof kClientHelloStart - 1);
  auto took = TrickleUntilClosed(
      raw, [&](std::size_t i) { return raw.Send(hello.substr(i % hello.size(), 1)); },
      std::chrono::seconds(5));
  ASSERT_TRUE(took.has_value()) << "a trickling handshake was never cut off";
  EXPECT_LE(*took, std::chrono::milliseconds(2500));
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_timed_out_total", "phase", "handshake"), 1);
}

TEST_F(ServerTest, AnIdleConnectionEndsAtTheIdleTimeout) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 4};
  options.connections.idle_timeout = std::chrono::seconds(1);
  Start(options);
  auto client = Connect();
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->ClosedByServer(std::chrono::seconds(5)));
  EXPECT_LE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_timed_out_total", "phase", "idle"), 1);
}

// At --max-connections a new connection makes the one idle longest give way.
TEST_F(ServerTest, AtTheLimitTheOldestIdleConnectionIsShed) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 4};
  options.connections.max_connections = 3;
  Start(options);
  auto oldest = Connect();
  ASSERT_TRUE(oldest->Send(Post("/noop", "{}")));
  ASSERT_TRUE(oldest->ReadResponse().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto second = Connect();
  ASSERT_TRUE(second->Send(Post("/noop", "{}")));
  ASSERT_TRUE(second->ReadResponse().has_value());
  // The oldest connection sent its request last: the second is now idle longest.
  ASSERT_TRUE(oldest->Send(Post("/noop", "{}")));
  ASSERT_TRUE(oldest->ReadResponse().has_value());
  auto third = Connect();
  auto fourth = Connect();
  ASSERT_TRUE(fourth->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
  auto response = fourth->ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_TRUE(second->ClosedByServer(std::chrono::seconds(1)));
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_shed_total", "phase", "idle"), 1);
  ASSERT_TRUE(oldest->Send(Post("/noop", "{}")));
  EXPECT_TRUE(oldest->ReadResponse().has_value());
}

// A connection whose request is with a handler is never shed: when every one is, the
// new connection is refused instead.
TEST_F(ServerTest, AtTheLimitWithEveryConnectionBusyTheNewOneIsRefused) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 4};
  options.connections.max_connections = 2;
  Start(options);
  hold_ = true;
  auto first = Connect();
  auto second = Connect();
  for (auto* client : {first.get(), second.get()}) {
    ASSERT_TRUE(client->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                  ReadReview("create-primary-advert.json"))));
  }
  {
    std::unique_lock lock(mutex_);
    ASSERT_TRUE(
        changed_.wait_for(lock, std::chrono::seconds(10), [this] { return held_count_ == 2; }));
  }
  TlsTestClient refused(port_, pki_.ca.certificate);
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_shed_total", "phase", "new"), 1);
  Release();
  for (auto* client : {first.get(), second.get()}) {
    auto response = client->ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 OK\r\n"));
  }
}

// The starvation of issue 19: 64 clients trickling handshakes or requests and 64 idle
// TLS connections, against 4 workers. Requests on other connections are answered at once.
TEST_F(ServerTest, SlowAndIdleClientsDoNotDelayOthers) {
  std::vector<std::unique_ptr<RawClient>> handshakes;
  std::vector<std::unique_ptr<TlsTestClient>> requests, idle;
  for (int i = 0; i < 32; ++i) {
    handshakes.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(handshakes.back()->Send(std::string_view(kClientHelloStart, 1)));
    requests.push_back(Connect());
    ASSERT_TRUE(requests.back()->Send("P"));
  }
  for (int i = 0; i < 64; ++i) idle.push_back(Connect());
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto client = Connect();
    ASSERT_TRUE(client->Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                  ReadReview("create-primary-advert.json"))));
    auto response = client->ReadResponse(std::chrono::seconds(2));
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_THAT(*response, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500))
        << "request " << i;
    for (int k = 0; k < 32; ++k) {
      handshakes[k]->Send(std::string_view(kClientHelloStart + 1 + i % 8, 1));
      requests[k]->Send("O");
    }
  }
}

// The kubelet's probes reach a plain HTTP port of their own: it answers /healthz and
// /readyz only, and a slow client there is cut off as on the admission port.
TEST_F(ServerTest, TheHealthPortServesProbesOverPlainHttpAndCutsSlowClients) {
  ServerOptions options{.bind_address = "127.0.0.1", .port = 0, .threads = 1};
  options.listener = "health";
  options.connections.request_timeout = std::chrono::seconds(1);
  WebhookServer health(options, metrics_, [this] { return ready_.load(); });
  auto port = health.Bind();
  ASSERT_TRUE(port.has_value()) << port.error();
  std::jthread serving([&health] { health.Serve(); });
  struct Stop {
    WebhookServer& server;
    ~Stop() { server.Shutdown(); }  // before `serving` joins, also when an assertion fails
  } stop{health};

  {
    RawClient probe(*port);
    ASSERT_TRUE(probe.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_THAT(probe.ReadUntil("ok\n", std::chrono::seconds(5)),
                StartsWith("HTTP/1.1 200 OK\r\n"));
    ready_ = false;
    ASSERT_TRUE(probe.Send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_THAT(probe.ReadUntil("not ready\n", std::chrono::seconds(5)),
                StartsWith("HTTP/1.1 503 "));
    // No admission endpoint without TLS.
    ASSERT_TRUE(probe.Send(Post("/mutate-metallb-io-v1beta1-bgpadvertisement",
                                ReadReview("create-primary-advert.json"))));
    EXPECT_THAT(probe.ReadUntil("bgpadvertisement\n", std::chrono::seconds(5)),
                StartsWith("HTTP/1.1 404 "));
  }

  RawClient slow(*port);
  std::string request = "GET /healthz HTTP/1.1\r\n";
  auto took = TrickleUntilClosed(
      slow, [&](std::size_t i) { return slow.Send(request.substr(i % request.size(), 1)); },
      std::chrono::seconds(5));
  ASSERT_TRUE(took.has_value()) << "a trickling probe was never cut off";
  EXPECT_LE(*took, std::chrono::milliseconds(2500));
  EXPECT_EQ(Counter("bgpcomm_webhook_connections_timed_out_total", "listener", "health"), 1);
}

}  // namespace
}  // namespace bgpcomm::webhook
