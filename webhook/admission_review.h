// AdmissionReview admission.k8s.io/v1: decoding requests and encoding responses with
// RapidJSON (the hot path of every admission).
#pragma once

#include <rapidjson/document.h>

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "community/diagnostic.h"

namespace bgpcomm::webhook {

inline constexpr std::string_view kReviewApiVersion = "admission.k8s.io/v1";

// The parts of an AdmissionReview request bgpcomm reads. `object` and `old_object`
// point into `document` (null when absent, e.g. `object` on DELETE).
struct AdmissionRequest {
  std::string uid;
  std::string group;
  std::string version;
  std::string kind;
  std::string name;
  std::string namespace_name;
  std::string operation;  // CREATE, UPDATE, DELETE or CONNECT
  bool dry_run = false;
  const rapidjson::Value* object = nullptr;
  const rapidjson::Value* old_object = nullptr;
  std::shared_ptr<rapidjson::Document> document;
};

// Why a body is not a usable AdmissionReview. `uid` is the request UID when the body
// got far enough to carry one, so the response can still echo it.
struct ReviewError {
  std::string uid;
  std::string message;
};

// Decodes an HTTP body. Never throws; depth and size are bounded by the caller.
std::expected<AdmissionRequest, ReviewError> DecodeReview(std::string_view body);

// status.code and status.reason of a denial for the object's content (DESIGN.md).
inline constexpr int kDeniedCode = 422;
inline constexpr char kDeniedReason[] = "Invalid";

// One admission answer (controller-runtime's Allowed / Denied / Patched / Errored).
struct AdmissionResponse {
  std::string uid;
  bool allowed = true;
  int code = 200;                             // status.code when not allowed
  std::string reason;                         // status.reason, e.g. "Invalid"
  std::string message;                        // status.message
  std::vector<community::Diagnostic> causes;  // the errors the message lists
  std::vector<std::string> warnings;
  std::optional<std::string> patch;  // a JSON Patch document; sent base64-encoded

  static AdmissionResponse Allowed(std::string uid, std::vector<std::string> warnings = {});
  // 422 Invalid: every error of `diagnostics` in the message, each as `field: message`;
  // warnings are returned too. `subject` names the object, e.g. `BGPAdvertisement "a"`.
  // The status carries no details.causes: for an Invalid status with causes kubectl
  // prints only the causes, dropping the apiserver's `admission webhook "..." denied the
  // request: <message>`, and the message already names every field.
  static AdmissionResponse Denied(std::string uid, std::string_view subject,
                                  const community::Diagnostics& diagnostics);
  // A refusal that is not about the object's content (API unreachable, wrong endpoint).
  static AdmissionResponse Errored(std::string uid, int code, std::string reason,
                                   std::string message);
};

// The AdmissionReview JSON that carries `response`.
std::string EncodeReview(const AdmissionResponse& response);

// Warnings as kubectl shows them: `field.path: message`.
std::vector<std::string> WarningTexts(const community::Diagnostics& diagnostics);

}  // namespace bgpcomm::webhook
