// A raw HTTP/1.1-over-TLS client for server tests: it sends exactly the bytes a test
// writes (duplicate headers, stalled requests), which a real HTTP client would refuse to.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace bgpcomm::webhook::testing {

class TlsTestClient {
 public:
  // Connects to 127.0.0.1:`port` and verifies the server against `ca_pem`; `max_version`
  // caps the protocol (e.g. TLS1_1_VERSION to prove old versions are refused).
  TlsTestClient(int port, const std::string& ca_pem, int max_version = 0) {
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(context_, 0);  // allow the client to offer TLS 1.0/1.1
    if (max_version != 0) {
      SSL_CTX_set_min_proto_version(context_, TLS1_VERSION);
      SSL_CTX_set_max_proto_version(context_, max_version);
    }
    BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(context_), ca);
    X509_free(ca);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);

    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return;
    ssl_ = SSL_new(context_);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    connected_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsTestClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
    SSL_CTX_free(context_);
  }
  TlsTestClient(const TlsTestClient&) = delete;
  TlsTestClient& operator=(const TlsTestClient&) = delete;

  bool connected() const { return connected_; }

  // The subject CN of the certificate the server presented.
  std::string PeerCommonName() const {
    X509* peer = SSL_get1_peer_certificate(ssl_);
    if (peer == nullptr) return {};
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    X509_free(peer);
    return cn;
  }

  bool Send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      int n = SSL_write(ssl_, bytes.data() + sent, static_cast<int>(bytes.size() - sent));
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads one HTTP response (head plus Content-Length body); nullopt when the server
  // closed first or nothing complete arrived within `deadline`.
  std::optional<std::string> ReadResponse(
      std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
      auto head_end = buffer_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::size_t length = 0;
        auto cl = buffer_.find("Content-Length: ");
        if (cl != std::string::npos && cl < head_end) length = std::stoul(buffer_.substr(cl + 16));
        if (buffer_.size() >= head_end + 4 + length) {
          std::string response = buffer_.substr(0, head_end + 4 + length);
          buffer_.erase(0, head_end + 4 + length);
          return response;
        }
      }
      if (!ReadSome(until)) return std::nullopt;
    }
  }

  // True when the server closes the connection (EOF) before `deadline`.
  bool ClosedByServer(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (ReadSome(until)) {
    }
    return eof_;
  }

 private:
  bool ReadSome(std::chrono::steady_clock::time_point until) {
    if (eof_) return false;
    if (SSL_pending(ssl_) == 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    }
    char chunk[16384];
    int n = SSL_read(ssl_, chunk, sizeof chunk);
    if (n <= 0) {
      int error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error == SSL_ERROR_WANT_READ) return true;
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string buffer_;
};

}  // namespace bgpcomm::webhook::testing
