#include <gtest/gtest.h>

#include <cstdlib>

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
    server_->Get(R"(/apis/metallb.io/v1beta1/namespaces/metallb-system/communities/(.+))",
                 [](const httplib::Request& req, httplib::Response& res) {
                   res.set_content(CommunityJson(req.matches[1], "9"), "application/json");
                 });
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = std::jthread([this] { server_->listen_after_bind(); });
    EXPECT_TRUE(WaitFor([this] { return server_->is_running(); }));
  }
  ~TlsTest() override {
    server_->stop();
    thread_.join();
  }

  std::expected<nlohmann::json, Error> Get(RestConfig config) {
    config.server = "https://127.0.0.1:" + std::to_string(port_);
    config.origin = "test";
    auto client = Client::New(std::move(config), {.connect_timeout = 5s, .request_timeout = 5s});
    if (!client) return std::unexpected(client.error());
    return (*client)->Get(kCommunities, "metallb-system", "my-communities");
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

}  // namespace
}  // namespace bgpcomm::kube
