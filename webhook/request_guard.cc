#include "webhook/request_guard.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace bgpcomm::webhook {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Rejection> CheckRequestHead(
    std::string_view method, const std::vector<std::pair<std::string, std::string>>& headers,
    const RequestLimits& limits) {
  if (headers.size() > limits.max_headers) {
    return Rejection{431, "too_many_headers",
                     std::to_string(headers.size()) + " headers; at most " +
                         std::to_string(limits.max_headers) + " are accepted"};
  }
  int content_lengths = 0;
  std::string_view content_length;
  for (const auto& [name, value] : headers) {
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
      // The API server always sends a Content-Length; a chunked body has no size the
      // webhook could check before reading it, and with Content-Length it smuggles.
      return Rejection{400, "transfer_encoding",
                       "Transfer-Encoding is not accepted; send the body with Content-Length"};
    }
    if (EqualsIgnoreCase(name, "Content-Length")) {
      ++content_lengths;
      content_length = Trim(value);
    }
  }
  if (content_lengths > 1) {
    return Rejection{400, "duplicate_content_length", "more than one Content-Length header"};
  }
  if (content_lengths == 1) {
    std::uint64_t length = 0;
    auto [end, ec] = std::from_chars(content_length.data(),
                                     content_length.data() + content_length.size(), length);
    if (ec != std::errc() || end != content_length.data() + content_length.size() ||
        content_length.empty()) {
      return Rejection{400, "bad_content_length", "Content-Length is not a decimal number"};
    }
    if (length > limits.max_body_bytes) {
      return Rejection{413, "body_too_large",
                       "body of " + std::to_string(length) + " bytes exceeds the limit of " +
                           std::to_string(limits.max_body_bytes) + " bytes"};
    }
  } else if (method == "POST") {
    return Rejection{411, "length_required", "POST needs a Content-Length"};
  }
  return std::nullopt;
}

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  return EqualsIgnoreCase(media, "application/json");
}

}  // namespace bgpcomm::webhook
