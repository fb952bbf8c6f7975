#include "kube/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "kube/base64.h"
#include "kube/client.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using testing::FakeClock;
using testing::TempDir;

// A throwaway CA-less self-signed certificate and key, made with the openssl CLI once.
class KubeconfigTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-days 1 -subj /CN=admin/O=system:masters -keyout " +
        certs_->path() + "/key.pem -out " + certs_->path() + "/cert.pem >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    cert_ = testing::ReadFile(certs_->path() + "/cert.pem");
    key_ = testing::ReadFile(certs_->path() + "/key.pem");
    ASSERT_NE(cert_.find("BEGIN CERTIFICATE"), std::string::npos);
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static inline TempDir* certs_ = nullptr;
  static inline std::string cert_;
  static inline std::string key_;
  TempDir dir_;
};

constexpr char kDataKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: kind-bgp
clusters:
- name: other
  cluster:
    server: https://10.0.0.1:6443
- name: kind-bgp
  cluster:
    server: https://127.0.0.1:38443
    certificate-authority-data: CA_DATA
contexts:
- name: kind-bgp
  context:
    cluster: kind-bgp
    user: kind-admin
    namespace: metallb-system
users:
- name: kind-admin
  user:
    client-certificate-data: CERT_DATA
    client-key-data: KEY_DATA
)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST_F(KubeconfigTest, DataVariants) {
  std::string text = Replace(
      Replace(Replace(kDataKubeconfig, "CA_DATA", EncodeBase64(cert_)), "CERT_DATA", EncodeBase64(cert_)),
      "KEY_DATA", EncodeBase64(key_));
  auto config = ParseKubeconfig(text, "/home/u/.kube/config", "/home/u/.kube");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server, "https://127.0.0.1:38443");
  EXPECT_EQ(config->ca_pem, cert_);
  EXPECT_EQ(config->client_cert_pem, cert_);
  EXPECT_EQ(config->client_key_pem, key_);
  EXPECT_EQ(config->namespace_name, "metallb-system");
  EXPECT_FALSE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->origin, "/home/u/.kube/config context kind-bgp");
  // The PEM material is usable: the client accepts the pair.
  EXPECT_TRUE(Client::New(*config));
}

TEST_F(KubeconfigTest, FileVariantsResolveRelativeToTheKubeconfig) {
  dir_.Write("ca.crt", cert_);
  dir_.Write("admin.crt", cert_);
  dir_.Write("admin.key", key_);
  dir_.Write("token", "file-token\n");
  std::string path = dir_.Write("config", R"(
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster:
    server: https://example.test:443/prefix/
    certificate-authority: ca.crt
    insecure-skip-tls-verify: true
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: t}
users:
- name: u
  user:
    client-certificate: admin.crt
    client-key: )" + dir_.path() + R"(/admin.key
- name: t
  user:
    token: static-token
    tokenFile: token
)");
  auto config = LoadKubeconfig(path);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->ca_pem, cert_);
  EXPECT_EQ(config->client_cert_pem, cert_);
  EXPECT_EQ(config->client_key_pem, key_);
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->namespace_name, "");

  auto other = LoadKubeconfig(path, {.context = "b"});
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->token, "static-token");
  EXPECT_EQ(other->token_file, dir_.path() + "/token");
  EXPECT_TRUE(other->client_cert_pem.empty());
}

struct ErrorCase {
  const char* name;
  std::string text;
  std::string message;
};

TEST_F(KubeconfigTest, ErrorsNameTheFileAndField) {
  const std::string head =
      "current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n";
  std::vector<ErrorCase> cases = {
      {"not yaml", "clusters: [", "cfg: not YAML: line 1: "},
      {"not a map", "- a\n- b\n", "cfg: must be a mapping with clusters, contexts and users"},
      {"no current context", "clusters: []\n",
       "cfg: current-context: not set and no context was given"},
      {"missing context", "current-context: x\ncontexts: []\n",
       "cfg: contexts: context \"x\" not found"},
      {"missing cluster", head + "clusters: []\n", "cfg: clusters: cluster \"c\" not found"},
      {"no server", head + "clusters:\n- name: c\n  cluster: {}\n",
       "cfg: clusters[name=c].cluster.server: missing"},
      {"bad scheme", head + "clusters:\n- name: c\n  cluster: {server: 'ftp://x'}\n",
       "cfg: clusters[name=c].cluster.server: \"ftp://x\" must start with https:// or http://"},
      {"bad base64",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x', certificate-authority-data: "
              "'a$b='}\n",
       "cfg: clusters[name=c].cluster.certificate-authority-data: not base64: unexpected character "
       "at offset 1"},
      {"unreadable ca",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x', certificate-authority: "
              "nope.crt}\n",
       "cfg: clusters[name=c].cluster.certificate-authority: cannot read /nowhere/nope.crt: No "
       "such file or directory"},
      {"bad bool",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x', insecure-skip-tls-verify: "
              "maybe}\n",
       "cfg: clusters[name=c].cluster.insecure-skip-tls-verify: must be true or false"},
      {"missing user", head + "clusters:\n- name: c\n  cluster: {server: 'https://x'}\n",
       "cfg: users: missing, but user \"u\" is referenced"},
      {"exec",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x'}\nusers:\n- name: u\n  user: "
              "{exec: {command: aws}}\n",
       "cfg: users[name=u].user.exec: is not supported by bgpcomm"},
      {"key without cert",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x'}\nusers:\n- name: u\n  user: "
              "{client-key-data: YWJj}\n",
       "cfg: users[name=u].user: client-key given without client-certificate"},
      {"token file unreadable",
       head + "clusters:\n- name: c\n  cluster: {server: 'https://x'}\nusers:\n- name: u\n  user: "
              "{tokenFile: /nowhere/t}\n",
       "cfg: users[name=u].user.tokenFile: cannot read /nowhere/t: No such file or directory"},
      {"wrong type", head + "clusters:\n- name: c\n  cluster: {server: [1]}\n",
       "cfg: clusters[name=c].cluster.server: must be a string"},
  };
  for (const auto& c : cases) {
    auto config = ParseKubeconfig(c.text, "cfg", "/nowhere");
    ASSERT_FALSE(config) << c.name;
    EXPECT_EQ(config.error().message.substr(0, c.message.size()), c.message) << c.name;
    EXPECT_EQ(config.error().http_status, 0);
  }
}

TEST_F(KubeconfigTest, MissingFileIsNamed) {
  auto config = LoadKubeconfig(dir_.path() + "/absent");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message, dir_.path() + "/absent: cannot read: No such file or directory");
}

TEST_F(KubeconfigTest, MismatchedKeyIsRejectedByTheClient) {
  TempDir other;
  std::string cmd = "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out " +
                    other.path() + "/k.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  RestConfig config{.server = "https://127.0.0.1:1",
                    .client_cert_pem = cert_,
                    .client_key_pem = testing::ReadFile(other.path() + "/k.pem"),
                    .origin = "cfg"};
  auto client = Client::New(config);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message, "cfg: client key does not match the client certificate");
  config.client_key_pem = key_;
  config.ca_pem = "not pem";
  client = Client::New(config);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().message, "cfg: certificate authority holds no PEM certificate");
}

TEST(InClusterTest, ReadsServiceAccountFilesAndEnvironment) {
  TempDir dir;
  InClusterPaths paths{.token = dir.Write("token", "tok-1\n"),
                       .ca = dir.Write("ca.crt", "CA PEM"),
                       .namespace_file = dir.Write("namespace", "metallb-system")};
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  auto lookup = [&](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto config = InClusterConfig(paths, lookup);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->ca_pem, "CA PEM");
  EXPECT_EQ(config->token_file, paths.token);
  EXPECT_EQ(config->namespace_name, "metallb-system");

  env.erase("KUBERNETES_SERVICE_PORT");
  EXPECT_EQ(InClusterConfig(paths, lookup).error().message,
            "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  env["KUBERNETES_SERVICE_PORT"] = "443";
  paths.token = dir.path() + "/missing";
  EXPECT_EQ(InClusterConfig(paths, lookup).error().message,
            dir.path() + "/missing: cannot read token: No such file or directory");
}

TEST(TokenSourceTest, RereadsAfterAMinuteOrWhenInvalidated) {
  TempDir dir;
  std::string file = dir.Write("token", "one\n");
  FakeClock clock;
  TokenSource tokens(RestConfig{.token_file = file}, clock);
  EXPECT_EQ(tokens.Token().value(), "one");
  dir.Write("token", "two");
  clock.Advance(std::chrono::seconds(59));
  EXPECT_EQ(tokens.Token().value(), "one");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(tokens.Token().value(), "two");
  dir.Write("token", "three");
  tokens.Invalidate();
  EXPECT_EQ(tokens.Token().value(), "three");
  // A rotation in progress (file briefly gone) keeps the last token.
  std::filesystem::remove(file);
  tokens.Invalidate();
  EXPECT_EQ(tokens.Token().value(), "three");
}

TEST(TokenSourceTest, StaticToken) {
  FakeClock clock;
  TokenSource tokens(RestConfig{.token = "abc"}, clock);
  EXPECT_EQ(tokens.Token().value(), "abc");
  TokenSource none(RestConfig{}, clock);
  EXPECT_EQ(none.Token().value(), "");
}

}  // namespace
}  // namespace bgpcomm::kube
