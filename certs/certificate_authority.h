// Generation of a CA and of serving certificates it signs (OpenSSL, ECDSA P-256), for
// `--cert-mode=self`, `bgpcomm certs` and tests.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <vector>

namespace bgpcomm::certs {

struct PemPair {
  std::string certificate;  // PEM
  std::string private_key;  // PEM, PKCS#8
};

struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries (IPv4 or IPv6)
  std::chrono::system_clock::time_point not_before;
  std::chrono::seconds validity{std::chrono::hours(24 * 365)};
  // extendedKeyUsage of a certificate IssueServing makes ("clientAuth" for a client's).
  std::string extended_key_usage = "serverAuth";
};

// A self-signed CA (basicConstraints CA:TRUE, keyCertSign).
std::expected<PemPair, std::string> GenerateCa(const CertificateRequest& request);

// A serving certificate (serverAuth, digitalSignature) for `request`'s names, signed by
// `ca`.
std::expected<PemPair, std::string> IssueServing(const PemPair& ca,
                                                 const CertificateRequest& request);

}  // namespace bgpcomm::certs
