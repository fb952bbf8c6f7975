// The error every fallible kube/ operation returns: a transport or input problem
// (http_status 0) or an apiserver answer (http_status and its Status reason/message).
#pragma once

#include <string>

namespace bgpcomm::kube {

struct Error {
  // HTTP status of the apiserver's answer; 0 when no answer was received (connection,
  // timeout, TLS) or the problem is local (bad config, undecodable body).
  int http_status = 0;
  // The apiserver's `Status.reason` (`NotFound`, `AlreadyExists`, `Conflict`,
  // `Expired`, ...), empty when none was given.
  std::string reason;
  // Human-readable description: the apiserver's `Status.message` or our own.
  std::string message;

  // `message`, prefixed with `HTTP <status> <reason>: ` when the apiserver answered.
  std::string ToString() const {
    if (http_status == 0) return message;
    std::string out = "HTTP " + std::to_string(http_status);
    if (!reason.empty()) out += " " + reason;
    return out + ": " + message;
  }
  bool IsNotFound() const { return http_status == 404; }
  bool IsConflict() const { return http_status == 409; }
  bool IsGone() const { return http_status == 410; }
  bool IsUnauthorized() const { return http_status == 401; }
};

// A local error (no HTTP status) with `message`.
inline Error LocalError(std::string message) { return Error{0, "", std::move(message)}; }

}  // namespace bgpcomm::kube
