#include "certs/serving_certificate.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>

#include "certs/certificate_authority.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::certs {
namespace {

using kube::testing::TempDir;

void WriteFile(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// Moves the file's mtime forward, so that a rewrite within the same clock tick is seen.
void Touch(const std::filesystem::path& path, int seconds) {
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) + std::chrono::seconds(seconds));
}

struct Handshake {
  bool ok = false;
  std::string client_ca_names;  // the CA subjects the server's CertificateRequest named
};

// A TLS handshake, in memory, between a client presenting `client` and a server context
// prepared by `serving.Install`.
Handshake Connect(ServingCertificate& serving, const PemPair& presented) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> server_ctx(SSL_CTX_new(TLS_server_method()),
                                                               SSL_CTX_free);
  serving.Install(*server_ctx);
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client_ctx(SSL_CTX_new(TLS_client_method()),
                                                               SSL_CTX_free);
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::string captured;
  // Records the CA names offered, then presents the client certificate.
  SSL_CTX_set_client_cert_cb(client_ctx.get(), [](SSL* ssl, X509** x509, EVP_PKEY** key) {
    auto* out = static_cast<std::pair<std::string*, const PemPair*>*>(SSL_get_app_data(ssl));
    STACK_OF(X509_NAME)* names = SSL_get_client_CA_list(ssl);
    for (int i = 0; names != nullptr && i < sk_X509_NAME_num(names); ++i) {
      char text[256];
      X509_NAME_oneline(sk_X509_NAME_value(names, i), text, sizeof text);
      *out->first += std::string(text) + ";";
    }
    BIO* cert_bio = BIO_new_mem_buf(out->second->certificate.data(),
                                    static_cast<int>(out->second->certificate.size()));
    BIO* key_bio = BIO_new_mem_buf(out->second->private_key.data(),
                                   static_cast<int>(out->second->private_key.size()));
    *x509 = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    *key = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
    BIO_free(cert_bio);
    BIO_free(key_bio);
    return 1;
  });
  SSL* server = SSL_new(server_ctx.get());
  SSL* client = SSL_new(client_ctx.get());
  std::pair<std::string*, const PemPair*> app{&captured, &presented};
  SSL_set_app_data(client, &app);
  BIO* server_bio = nullptr;
  BIO* client_bio = nullptr;
  BIO_new_bio_pair(&server_bio, 0, &client_bio, 0);
  SSL_set_bio(server, server_bio, server_bio);
  SSL_set_bio(client, client_bio, client_bio);
  SSL_set_accept_state(server);
  SSL_set_connect_state(client);
  bool server_done = false, client_done = false, failed = false;
  for (int round = 0; round < 20 && !(server_done && client_done) && !failed; ++round) {
    for (auto [ssl, done] : {std::pair{client, &client_done}, std::pair{server, &server_done}}) {
      if (*done) continue;
      int result = SSL_do_handshake(ssl);
      if (result == 1) {
        *done = true;
      } else {
        int error = SSL_get_error(ssl, result);
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) failed = true;
      }
    }
  }
  // TLS 1.3: the server judges the client's certificate after the client has finished;
  // a read on the client then sees the server's alert.
  if (!failed && server_done && client_done) {
    char byte;
    SSL_write(server, "x", 1);
    failed = SSL_read(client, &byte, 1) != 1;
  }
  ERR_clear_error();
  Handshake out{.ok = !failed && server_done && client_done, .client_ca_names = captured};
  SSL_free(server);
  SSL_free(client);
  return out;
}

TEST(ServingCertificateTest, ARotatedClientCaFileAloneIsPickedUp) {
  auto now = std::chrono::system_clock::now() - std::chrono::hours(1);
  auto serving_ca = *GenerateCa({.common_name = "serving-ca", .not_before = now});
  auto serving = *IssueServing(
      serving_ca, {.common_name = "webhook", .dns_names = {"webhook"}, .not_before = now});
  auto old_ca = *GenerateCa({.common_name = "apiserver-client-ca-old", .not_before = now});
  auto new_ca = *GenerateCa({.common_name = "apiserver-client-ca-new", .not_before = now});
  auto old_client = *IssueServing(
      old_ca, {.common_name = "apiserver", .not_before = now, .extended_key_usage = "clientAuth"});
  auto new_client = *IssueServing(
      new_ca, {.common_name = "apiserver", .not_before = now, .extended_key_usage = "clientAuth"});
  TempDir dir;
  std::filesystem::path base = dir.path();
  WriteFile(base / "tls.crt", serving.certificate);
  WriteFile(base / "tls.key", serving.private_key);
  WriteFile(base / "client-ca.crt", old_ca.certificate);
  auto loaded = ServingCertificate::Load(base / "tls.crt", base / "tls.key",
                                         std::chrono::milliseconds(0), base / "client-ca.crt");
  ASSERT_TRUE(loaded) << loaded.error();
  auto& certificate = **loaded;

  auto before_old = Connect(certificate, old_client);
  EXPECT_TRUE(before_old.ok);
  EXPECT_EQ(before_old.client_ca_names, "/CN=apiserver-client-ca-old;");
  EXPECT_FALSE(Connect(certificate, new_client).ok);

  // Only the client CA file changes (the serving pair stays as it is).
  WriteFile(base / "client-ca.crt", new_ca.certificate);
  Touch(base / "client-ca.crt", 2);
  auto after_new = Connect(certificate, new_client);
  EXPECT_TRUE(after_new.ok);
  EXPECT_EQ(after_new.client_ca_names, "/CN=apiserver-client-ca-new;");
  EXPECT_FALSE(Connect(certificate, old_client).ok);
  EXPECT_EQ(certificate.reloads(), 1);
}

}  // namespace
}  // namespace bgpcomm::certs
