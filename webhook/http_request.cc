#include "webhook/http_request.h"

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

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return {};
}

bool HttpRequest::KeepAlive() const {
  std::string connection = Header("Connection");
  if (minor_version == 0) return EqualsIgnoreCase(connection, "keep-alive");
  return !EqualsIgnoreCase(connection, "close");
}

RequestReader::Status RequestReader::Reject(int status, std::string reason, std::string message) {
  rejected_ = true;
  rejection_ = Rejection{status, std::move(reason), std::move(message)};
  return Status::kRejected;
}

RequestReader::Status RequestReader::Feed(std::string_view bytes) {
  if (rejected_) return Status::kRejected;
  buffer_.append(bytes);
  if (!head_done_) {
    // Only the new bytes (and the 3 before them) can complete the blank line, so a head
    // that arrives a byte at a time is not searched again from its start each time.
    auto head_end = buffer_.find("\r\n\r\n", scanned_ > 3 ? scanned_ - 3 : 0);
    scanned_ = buffer_.size();
    if (head_end == std::string::npos || head_end + 4 > kMaxHeadBytes) {
      if (buffer_.size() > kMaxHeadBytes || head_end != std::string::npos) {
        return Reject(
            431, "head_too_large",
            "the request line and headers exceed " + std::to_string(kMaxHeadBytes) + " bytes");
      }
      return Status::kNeedMore;
    }
    if (Status status = ParseHead(head_end); status == Status::kRejected) return status;
    buffer_.erase(0, head_end + 4);
    head_done_ = true;
    scanned_ = 0;
  }
  if (buffer_.size() < body_length_) return Status::kNeedMore;
  return Status::kComplete;
}

RequestReader::Status RequestReader::ParseHead(std::size_t head_end) {
  std::string_view head(buffer_.data(), head_end);
  request_ = HttpRequest{};
  std::size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);

  // Request line: METHOD SP target SP HTTP/1.x
  auto first_space = line.find(' ');
  auto last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return Reject(400, "bad_request_line", "the request line is not \"METHOD target HTTP/1.1\"");
  }
  std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = line.substr(last_space + 1);
  if (!IsToken(method) || target.empty() || target.front() != '/' ||
      target.find(' ') != std::string_view::npos || HasControl(target)) {
    return Reject(400, "bad_request_line", "the request line is not \"METHOD target HTTP/1.1\"");
  }
  if (version == "HTTP/1.1") {
    request_.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request_.minor_version = 0;
  } else {
    return Reject(505, "unsupported_version",
                  "the request line's version must be HTTP/1.1 or HTTP/1.0");
  }
  request_.method = method;
  request_.target = target;
  request_.path = target.substr(0, target.find('?'));

  // Header lines: name ":" value, no folding, no whitespace before the colon.
  std::size_t number = 0;
  while (!head.empty()) {
    ++number;
    line_end = head.find("\r\n");
    line = head.substr(0, line_end);
    head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || !IsToken(name)) {
      return Reject(400, "bad_header",
                    "header line " + std::to_string(number) + " is not \"Name: value\"");
    }
    std::string_view value = Trim(line.substr(colon + 1));
    if (HasControl(value)) {
      return Reject(400, "bad_header",
                    "header " + std::string(name) + " holds a control character");
    }
    request_.headers.emplace_back(name, value);
  }
  if (auto rejection = CheckRequestHead(request_.method, request_.headers, limits_)) {
    rejected_ = true;
    rejection_ = std::move(*rejection);
    return Status::kRejected;
  }
  body_length_ = 0;
  if (std::string length = request_.Header("Content-Length"); !length.empty()) {
    // CheckRequestHead has checked it is one decimal number within the limit.
    std::from_chars(length.data(), length.data() + length.size(), body_length_);
  }
  expect_continue_ =
      body_length_ > 0 && EqualsIgnoreCase(request_.Header("Expect"), "100-continue");
  return Status::kNeedMore;
}

HttpRequest RequestReader::TakeRequest() {
  HttpRequest request = std::move(request_);
  request.body = buffer_.substr(0, body_length_);
  buffer_.erase(0, body_length_);
  request_ = HttpRequest{};
  head_done_ = false;
  expect_continue_ = false;
  body_length_ = 0;
  return request;
}

std::string SerializeResponse(const HttpResponse& response) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(ReasonPhrase(response.status)) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (response.close) out += "Connection: close\r\n";
  out += "\r\n";
  out += response.body;
  return out;
}

}  // namespace bgpcomm::webhook
