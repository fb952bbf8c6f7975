#include "kube/base64.h"

#include <openssl/evp.h>

#include <algorithm>

namespace bgpcomm::kube {

std::string EncodeBase64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::expected<std::string, std::string> DecodeBase64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != '\r' && c != '\n') clean += c;
  if (clean.size() % 4 != 0) return std::unexpected("not base64: length is not a multiple of 4");
  // EVP_DecodeBlock trims surrounding whitespace and reads '=' as a zero sextet wherever it
  // stands: the alphabet and the padding (RFC 4648 §3.2, §4) are checked here.
  auto bad = std::find_if(clean.begin(), clean.end(), [](char c) {
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '+' || c == '/' || c == '=');
  });
  if (bad != clean.end())
    return std::unexpected("not base64: unexpected character at offset " +
                           std::to_string(bad - clean.begin()));
  std::size_t padding = 0;
  while (padding < clean.size() && clean[clean.size() - 1 - padding] == '=') ++padding;
  std::size_t first_pad = clean.find('=');
  if (padding > 2 || (first_pad != std::string::npos && first_pad < clean.size() - padding))
    return std::unexpected("not base64: '=' at offset " + std::to_string(first_pad));
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return std::unexpected(std::string("not base64"));
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace bgpcomm::kube
