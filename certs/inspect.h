// Reading back what GenerateCa/IssueServing wrote: validity, names, key match and
// chain verification. Used to decide whether a stored certificate can still serve.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <vector>

namespace bgpcomm::certs {

struct CertificateInfo {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> dns_names;  // subjectAltName DNS entries
  bool is_ca = false;
};

// The first certificate of `pem`; fails when there is none or it does not parse.
std::expected<CertificateInfo, std::string> InspectCertificate(const std::string& pem);

// Every certificate of a PEM bundle, in order (an empty bundle is an error).
std::expected<std::vector<std::string>, std::string> SplitPemBundle(const std::string& pem);

// True when `key_pem` is the private key of the first certificate of `cert_pem`.
bool KeyMatchesCertificate(const std::string& cert_pem, const std::string& key_pem);

// Verifies the first certificate of `leaf_pem` against the CAs of `ca_bundle_pem` as of
// `at` (validity periods are checked at that time, not now); returns OpenSSL's reason
// on failure.
std::expected<void, std::string> VerifyCertificate(const std::string& leaf_pem,
                                                   const std::string& ca_bundle_pem,
                                                   std::chrono::system_clock::time_point at);


}  // namespace bgpcomm::certs
