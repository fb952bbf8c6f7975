#include "certs/serving_certificate.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <system_error>

namespace bgpcomm::certs {
namespace {

constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string OpenSslError() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

// Modification times and sizes of the files; an empty path is left out.
std::string Fingerprint(std::initializer_list<const std::filesystem::path*> paths) {
  std::string out;
  for (const auto* path : paths) {
    if (path->empty()) continue;
    std::error_code ec;
    auto time = std::filesystem::last_write_time(*path, ec);
    auto size = std::filesystem::file_size(*path, ec);
    out += std::to_string(ec ? -1 : time.time_since_epoch().count()) + "/" +
           std::to_string(ec ? 0 : size) + ";";
  }
  return out;
}

int SwitchToCurrent(SSL* ssl, int* /*alert*/, void* arg) {
  auto* self = static_cast<ServingCertificate*>(arg);
  self->ReloadIfChanged();
  std::shared_ptr<SSL_CTX> current = self->Current();
  // SSL_set_SSL_CTX takes its own reference, so the context outlives a later reload.
  if (current) {
    SSL_set_SSL_CTX(ssl, current.get());
    // The CA names the CertificateRequest lists were copied from the listener's context
    // at SSL_new: take the current bundle's, or a client that picks its certificate by
    // them (Go's crypto/tls) would send none after a client CA rotation.
    if (STACK_OF(X509_NAME)* names = SSL_CTX_get_client_CA_list(current.get())) {
      SSL_set_client_CA_list(ssl, SSL_dup_CA_list(names));
    }
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

void ApplyServerTlsPolicy(SSL_CTX& context) {
  SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(&context, kTls12Ciphers);
  SSL_CTX_set_options(
      &context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

std::expected<void, std::string> RequireClientCertificate(SSL_CTX& context,
                                                          const std::filesystem::path& ca_path) {
  SSL_CTX_set_verify(&context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Sessions are resumable only in a context with the same id (RFC 8446 section 2.2
  // resumption skips the certificate); without one OpenSSL fails resumed handshakes.
  static constexpr unsigned char kSessionContext[] = "bgpcomm-webhook";
  SSL_CTX_set_session_id_context(&context, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_load_verify_locations(&context, ca_path.c_str(), nullptr) != 1) {
    return std::unexpected("cannot load client CA " + ca_path.string() + ": " + OpenSslError());
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_path.c_str());
  if (names == nullptr) {
    return std::unexpected("no certificate in client CA " + ca_path.string());
  }
  SSL_CTX_set_client_CA_list(&context, names);  // takes ownership
  return {};
}

ServingCertificate::ServingCertificate(std::filesystem::path cert_path,
                                       std::filesystem::path key_path,
                                       std::chrono::milliseconds check_interval,
                                       std::filesystem::path client_ca_path)
    : cert_path_(std::move(cert_path)),
      key_path_(std::move(key_path)),
      client_ca_path_(std::move(client_ca_path)),
      check_interval_(check_interval) {}

std::expected<std::unique_ptr<ServingCertificate>, std::string> ServingCertificate::Load(
    std::filesystem::path cert_path, std::filesystem::path key_path,
    std::chrono::milliseconds check_interval, std::filesystem::path client_ca_path) {
  std::unique_ptr<ServingCertificate> certificate(new ServingCertificate(
      std::move(cert_path), std::move(key_path), check_interval, std::move(client_ca_path)));
  if (auto loaded = certificate->LoadFiles(); !loaded) return std::unexpected(loaded.error());
  return certificate;
}

std::expected<void, std::string> ServingCertificate::LoadFiles() {
  std::string fingerprint = Fingerprint({&cert_path_, &key_path_, &client_ca_path_});
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context) return std::unexpected("cannot create a TLS context: " + OpenSslError());
  ApplyServerTlsPolicy(*context);
  if (!client_ca_path_.empty()) {
    if (auto required = RequireClientCertificate(*context, client_ca_path_); !required) {
      return std::unexpected(required.error());
    }
  }
  if (SSL_CTX_use_certificate_chain_file(context.get(), cert_path_.c_str()) != 1) {
    return std::unexpected("cannot load TLS certificate " + cert_path_.string() + ": " +
                           OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(context.get(), key_path_.c_str(), SSL_FILETYPE_PEM) != 1) {
    return std::unexpected("cannot load TLS private key " + key_path_.string() + ": " +
                           OpenSslError());
  }
  if (SSL_CTX_check_private_key(context.get()) != 1) {
    return std::unexpected("TLS private key " + key_path_.string() +
                           " does not match certificate " + cert_path_.string());
  }
  X509* leaf = SSL_CTX_get0_certificate(context.get());
  std::chrono::system_clock::time_point not_after{};
  if (leaf != nullptr) {
    tm t{};
    if (ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &t) == 1) {
      not_after = std::chrono::system_clock::from_time_t(timegm(&t));
    }
  }
  std::lock_guard lock(mutex_);
  if (current_) ++reloads_;
  current_ = std::move(context);
  not_after_ = not_after;
  fingerprint_ = std::move(fingerprint);
  return {};
}

void ServingCertificate::Install(SSL_CTX& server_context) {
  ApplyServerTlsPolicy(server_context);
  // Each SSL takes its verify mode from this listener context (SSL_new) and keeps it
  // after SwitchToCurrent; the store it verifies against is the switched-to context's.
  // A failure here still leaves verification required, so it fails closed.
  if (!client_ca_path_.empty()) (void)RequireClientCertificate(server_context, client_ca_path_);
  if (auto current = Current()) {
    SSL_CTX_use_certificate(&server_context, SSL_CTX_get0_certificate(current.get()));
    SSL_CTX_use_PrivateKey(&server_context, SSL_CTX_get0_privatekey(current.get()));
  }
  SSL_CTX_set_client_hello_cb(&server_context, SwitchToCurrent, this);
}

void ServingCertificate::ReloadIfChanged() {
  {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - last_check_ < check_interval_) return;
    last_check_ = now;
    if (Fingerprint({&cert_path_, &key_path_, &client_ca_path_}) == fingerprint_) return;
  }
  if (auto loaded = LoadFiles(); !loaded) {
    // Keep serving the previous certificate; look again at the next interval.
    if (on_error) on_error(loaded.error());
    return;
  }
  if (on_reload) on_reload();
}

std::shared_ptr<SSL_CTX> ServingCertificate::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::chrono::system_clock::time_point ServingCertificate::NotAfter() const {
  std::lock_guard lock(mutex_);
  return not_after_;
}

int ServingCertificate::reloads() const {
  std::lock_guard lock(mutex_);
  return reloads_;
}

}  // namespace bgpcomm::certs
