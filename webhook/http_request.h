// HTTP/1.1 framing for the webhook's server, with no I/O: requests are read from the
// bytes as they arrive (head, then a Content-Length body), and responses are written
// out. Only what the API servers send is accepted: a request line, header lines ended
// by CRLF, and a body announced by one Content-Length (CheckRequestHead refuses the
// rest before the body is read).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "webhook/request_guard.h"

namespace bgpcomm::webhook {

struct HttpRequest {
  std::string method;
  std::string target;                                        // as sent, query included
  std::string path;                                          // the target up to '?'
  int minor_version = 1;                                     // HTTP/1.<minor_version>
  std::vector<std::pair<std::string, std::string>> headers;  // as sent, values trimmed
  std::string body;

  // The first header named `name` (any case); empty when there is none.
  std::string Header(std::string_view name) const;
  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool KeepAlive() const;
};

class RequestReader {
 public:
  // A head (request line and headers) larger than this is refused with 431.
  static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

  enum class Status { kNeedMore, kComplete, kRejected };

  explicit RequestReader(RequestLimits limits) : limits_(limits) {}

  // Takes the bytes that arrived (possibly none) and says where the current request is.
  // After kRejected the connection must not be read further.
  Status Feed(std::string_view bytes);
  // True once any byte of the current request has arrived.
  bool started() const { return !buffer_.empty() || head_done_; }
  // True when the head asked for "Expect: 100-continue" and the body is still to come.
  bool expects_continue() const { return head_done_ && expect_continue_; }
  // The complete request (after kComplete); the bytes after it start the next one, so
  // call Feed({}) before reading more.
  HttpRequest TakeRequest();
  // Why the request was refused (after kRejected).
  const Rejection& rejection() const { return rejection_; }

 private:
  Status Reject(int status, std::string reason, std::string message);
  Status ParseHead(std::size_t head_end);

  RequestLimits limits_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ already searched for the head's end
  bool head_done_ = false;
  bool expect_continue_ = false;
  std::size_t body_length_ = 0;
  HttpRequest request_;
  Rejection rejection_{};
  bool rejected_ = false;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  bool close = false;  // "Connection: close", and the connection ends after it
};

// The bytes of `response` (status line, Content-Type, Content-Length, Connection: close
// when it closes, body).
std::string SerializeResponse(const HttpResponse& response);

// The interim answer to "Expect: 100-continue".
inline constexpr std::string_view kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace bgpcomm::webhook
