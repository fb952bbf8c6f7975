// A TLS serving certificate loaded from files and reloaded when they change, without
// dropping connections: every new handshake uses the newest good certificate, and
// established connections keep theirs.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace bgpcomm::certs {

// TLS settings shared by every server context bgpcomm creates: TLS 1.2 and 1.3 only,
// forward-secret AEAD ciphers for TLS 1.2 (Mozilla "intermediate").
void ApplyServerTlsPolicy(SSL_CTX& context);

// Makes `context` require a client certificate that verifies against the PEM CA
// bundle at `ca_path` (the handshake fails without one). The verify mode is set
// before the bundle is read, so a context whose bundle could not be loaded verifies
// nothing and refuses every client instead of accepting them.
std::expected<void, std::string> RequireClientCertificate(SSL_CTX& context,
                                                          const std::filesystem::path& ca_path);

class ServingCertificate {
 public:
  // Reads `cert_path` (PEM chain) and `key_path` (PEM key); fails with a message naming
  // the file when either is unreadable or they do not match. Changes are looked for at
  // most once per `check_interval`. A non-empty `client_ca_path` makes every handshake
  // require a client certificate signed by that CA (RequireClientCertificate); it is
  // re-read with the serving pair, and a change to it alone reloads both.
  static std::expected<std::unique_ptr<ServingCertificate>, std::string> Load(
      std::filesystem::path cert_path, std::filesystem::path key_path,
      std::chrono::milliseconds check_interval = std::chrono::seconds(1),
      std::filesystem::path client_ca_path = {});

  ServingCertificate(const ServingCertificate&) = delete;
  ServingCertificate& operator=(const ServingCertificate&) = delete;

  // Makes `server_context` (the listener's) hand each new handshake the newest context.
  void Install(SSL_CTX& server_context);

  // Re-reads the files (the client CA bundle too) when the modification time or size of
  // any of them changed. A failed reload
  // keeps the previous certificate and reports the message through `on_error`.
  void ReloadIfChanged();

  // The context new handshakes use now.
  std::shared_ptr<SSL_CTX> Current() const;
  // notAfter of the current leaf certificate.
  std::chrono::system_clock::time_point NotAfter() const;
  // How many times a changed pair of files was loaded since start.
  int reloads() const;

  std::function<void(const std::string&)> on_error;
  std::function<void()> on_reload;

 private:
  ServingCertificate(std::filesystem::path cert_path, std::filesystem::path key_path,
                     std::chrono::milliseconds check_interval,
                     std::filesystem::path client_ca_path);
  std::expected<void, std::string> LoadFiles();

  std::filesystem::path cert_path_;
  std::filesystem::path key_path_;
  std::filesystem::path client_ca_path_;  // empty: no client certificate requested
  std::chrono::milliseconds check_interval_;

  mutable std::mutex mutex_;
  std::shared_ptr<SSL_CTX> current_;
  std::chrono::system_clock::time_point not_after_;
  std::string fingerprint_;  // mtimes and sizes of the files at the last load
  std::chrono::steady_clock::time_point last_check_;
  int reloads_ = 0;
};

}  // namespace bgpcomm::certs
