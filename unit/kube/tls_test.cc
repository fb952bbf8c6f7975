#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;

// An HTTPS apiserver stand-in on 127.0.0.1 that requires a client certificate, with a
// throwaway server certificate (IP SAN 127.0.0.1) and client certificate from the
// openssl CLI.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string d = dir_->path();
    auto make = [&](const std::string& name, const std::string& subject, const std::string& ext) {
      std::string cmd =
          "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
          "-subj " +
          subject + " " + ext + " -keyout " + d + "/" + name + ".key -out " + d + "/" + name +
          ".crt >/dev/null 2>&1";
      return std::system(cmd.c_str()) == 0;
    };
    ASSERT_TRUE(make("server", "/CN=kube-apiserver", "-addext subjectAltName=IP:127.0.0.1"));
    ASSERT_TRUE(make("admin", "/CN=admin/O=system:masters", ""));
    ASSERT_TRUE(make("stranger", "/CN=stranger", "-addext subjectAltName=IP:127.0.0.1"));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Pem(const std::string& name) { return ReadFile(dir_->path() + "/" + name); }

  TlsTest() {
    const std::string d = dir_->path();
    server_ = std::make_unique<httplib::SSLServer>(
        (d + "/server.crt").c_str(), (d + "/server.key").c_str(), (d + "/admin.crt").c_str());
    auto answer = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(CommunityJson(req.matches[1], "9"), "application/json");
    };
    server_->Get(R"(/apis/metallb.io/v1beta1/namespaces/metallb-system/communities/(.+))", answer);
    server_->Put(R"(/apis/metallb.io/v1beta1/namespaces/metallb-system/communities/(.+))", answer);
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::jthread([this] { server_->listen_after_bind(); });
    EXPECT_TRUE(WaitFor([this] { return server_->is_running(); }));
  }
  ~TlsTest() override {
    server_->stop();
    thread_.join();
  }

  std::expected<std::unique_ptr<Client>, Error> NewClient(RestConfig config) {
    config.server = "https://127.0.0.1:" + std::to_string(port_);
    config.origin = "test";
    return Client::New(std::move(config), {.connect_timeout = 5s, .request_timeout = 5s});
  }
  std::expected<nlohmann::json, Error> Get(RestConfig config) {
    auto client = NewClient(std::move(config));
    if (!client) return std::unexpected(client.error());
    return (*client)->Get(kCommunities, "metallb-system", "my-communities");
  }
  RestConfig Admin() {
    return {.ca_pem = Pem("server.crt"),
            .client_cert_pem = Pem("admin.crt"),
            .client_key_pem = Pem("admin.key")};
  }

  static inline TempDir* dir_ = nullptr;
  std::unique_ptr<httplib::SSLServer> server_;
  int port_ = 0;
  std::jthread thread_;
};

TEST_F(TlsTest, MutualTlsWithPinnedCa) {
  auto got = Get({.ca_pem = Pem("server.crt"),
                  .client_cert_pem = Pem("admin.crt"),
                  .client_key_pem = Pem("admin.key")});
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ((*got)["metadata"]["name"], "my-communities");
}

TEST_F(TlsTest, WrongCaFailsVerification) {
  auto got = Get({.ca_pem = Pem("stranger.crt"),
                  .client_cert_pem = Pem("admin.crt"),
                  .client_key_pem = Pem("admin.key")});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().http_status, 0);
  EXPECT_NE(got.error().message.find("SSLServerVerification"), std::string::npos)
      << got.error().message;
}

TEST_F(TlsTest, InsecureSkipVerifyAcceptsAnyServer) {
  auto got = Get({.client_cert_pem = Pem("admin.crt"),
                  .client_key_pem = Pem("admin.key"),
                  .insecure_skip_tls_verify = true});
  ASSERT_TRUE(got) << got.error().ToString();
}

TEST_F(TlsTest, ServerRefusesAClientWithoutItsCertificate) {
  auto got = Get({.ca_pem = Pem("server.crt"),
                  .client_cert_pem = Pem("stranger.crt"),
                  .client_key_pem = Pem("stranger.key")});
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().http_status, 0);
}

// Connections opened on many threads at once, each verified against the pinned CA (what
// the webhook's informers do when they list at its start). With one CA store shared by
// every connection, cpp-httplib's unlocked additions to it corrupted the heap (a double
// free); each connection now has a store of its own.
TEST_F(TlsTest, ConnectionsOpenedOnManyThreadsAtOnceAreEachVerified) {
  for (int round = 0; round < 20; ++round) {
    auto client = NewClient(Admin());
    ASSERT_TRUE(client) << client.error().ToString();
    std::atomic<int> ok{0};
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < 6; ++t)  // the test server answers 8 connections at once
        threads.emplace_back([&, t] {
          ok += (*client)->Get(kCommunities, "metallb-system", "c" + std::to_string(t)).has_value();
        });
    }
    EXPECT_EQ(ok.load(), 6) << "round " << round;
  }
  // The pinned CA alone is trusted: a server with another certificate is still refused.
  auto stranger = Get({.ca_pem = Pem("stranger.crt"),
                       .client_cert_pem = Pem("admin.crt"),
                       .client_key_pem = Pem("admin.key")});
  EXPECT_FALSE(stranger);
}

TEST_F(TlsTest, CallsReuseOneVerifiedConnection) {
  auto client = NewClient(Admin());
  ASSERT_TRUE(client) << client.error().ToString();
  for (int i = 0; i < 4; ++i) {  // the server keeps a connection for 5 requests
    auto got = (*client)->Get(kCommunities, "metallb-system", "c" + std::to_string(i));
    ASSERT_TRUE(got) << got.error().ToString();
  }
  EXPECT_EQ((*client)->ConnectionsOpened(), 1u);
}

TEST_F(TlsTest, ConnectionsAtOnceShareTheCaStore) {
  auto client = NewClient(Admin());
  ASSERT_TRUE(client) << client.error().ToString();
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 5; ++i)
          ok += (*client)->Get(kCommunities, "metallb-system", "c").has_value();
      });
  }
  EXPECT_EQ(ok.load(), 15);
  client->reset();  // every connection's context released its reference to the store
}

// An HTTPS server by hand (OpenSSL) that closes a connection idle for `idle` as Go's
// http.Server, hence kube-apiserver, does: a TLS close_notify, then the socket closed.
// httplib's SSLServer closes without close_notify, which a peek already detects as EOF;
// the alert is data to read, so the client must notice that the connection ended.
class CloseNotifyServer {
 public:
  CloseNotifyServer(const std::string& cert, const std::string& key,
                    std::chrono::milliseconds idle)
      : idle_(idle) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    EXPECT_EQ(SSL_CTX_use_certificate_file(ctx_, cert.c_str(), SSL_FILETYPE_PEM), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM), 1);
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this] { Serve(); });
  }
  ~CloseNotifyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  int Requests() const { return requests_.load(); }

 private:
  void Serve() {
    for (;;) {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) == 1) {
        std::string buffer;
        while (ReadRequest(ssl, buffer)) {
          ++requests_;
          const std::string body = CommunityJson("c", "9");
          const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                       "Content-Length: " +
                                       std::to_string(body.size()) + "\r\n\r\n" + body;
          if (SSL_write(ssl, response.data(), static_cast<int>(response.size())) <= 0) break;
          pollfd fd{.fd = conn, .events = POLLIN, .revents = 0};
          if (SSL_pending(ssl) == 0 && buffer.empty() &&
              ::poll(&fd, 1, static_cast<int>(idle_.count())) == 0) {
            SSL_shutdown(ssl);  // close_notify
            break;
          }
        }
      }
      SSL_free(ssl);
      ::close(conn);
    }
  }
  static bool ReadRequest(SSL* ssl, std::string& buffer) {
    char chunk[4096];
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      int n = SSL_read(ssl, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    std::size_t length = 0;
    std::string lower = buffer.substr(0, end);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = lower.find("content-length:"); at != std::string::npos)
      length = std::strtoul(lower.c_str() + at + 15, nullptr, 10);
    while (buffer.size() < end + 4 + length) {
      int n = SSL_read(ssl, chunk, sizeof chunk);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    buffer.erase(0, end + 4 + length);
    return true;
  }

  std::chrono::milliseconds idle_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::jthread thread_;
};

TEST_F(TlsTest, AnIdleConnectionClosedWithCloseNotifyIsNotWrittenTo) {
  CloseNotifyServer server(dir_->path() + "/server.crt", dir_->path() + "/server.key", 300ms);
  auto client = Client::New(RestConfig{.server = "https://127.0.0.1:" + std::to_string(server.port()),
                                       .ca_pem = Pem("server.crt"),
                                       .origin = "test"},
                            {.connect_timeout = 5s, .request_timeout = 5s});
  ASSERT_TRUE(client) << client.error().ToString();
  nlohmann::json body = nlohmann::json::parse(CommunityJson("c", "9"));
  auto first = (*client)->Replace(kCommunities, "metallb-system", "c", body);
  ASSERT_TRUE(first) << first.error().ToString();
  auto second = (*client)->Replace(kCommunities, "metallb-system", "c", body);  // kept alive
  ASSERT_TRUE(second) << second.error().ToString();
  EXPECT_EQ((*client)->ConnectionsOpened(), 1u);
  std::this_thread::sleep_for(600ms);  // longer than the server keeps an idle connection
  // A PUT is never sent twice, so the closed connection must be noticed before it is used.
  auto third = (*client)->Replace(kCommunities, "metallb-system", "c", body);
  ASSERT_TRUE(third) << third.error().ToString();
  EXPECT_EQ((*client)->ConnectionsOpened(), 2u);
  EXPECT_EQ(server.Requests(), 3);
}

}  // namespace
}  // namespace bgpcomm::kube
