// Base64 (RFC 4648 §4, with padding) as the Kubernetes API uses it: Secret data,
// caBundle, kubeconfig `-data` fields, AdmissionReview patches. OpenSSL's
// EVP_EncodeBlock/EVP_DecodeBlock do the work; this adds the checks they leave out.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace bgpcomm::kube {

// `bytes` in base64, padded.
std::string EncodeBase64(std::string_view bytes);

// The bytes `text` encodes. CR and LF are skipped (as Go's decoder skips them, so wrapped
// kubeconfig data reads); anything else outside the alphabet, a length that is not a
// multiple of 4, or `=` anywhere but as one or two final characters fails, saying why.
std::expected<std::string, std::string> DecodeBase64(std::string_view text);

}  // namespace bgpcomm::kube
