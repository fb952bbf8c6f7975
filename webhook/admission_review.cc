#include "webhook/admission_review.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "kube/base64.h"

namespace bgpcomm::webhook {
namespace {

// Nesting deeper than any Kubernetes object needs is refused before it can exhaust the
// stack of RapidJSON's recursive value destruction.
constexpr int kMaxDepth = 64;

bool DepthWithin(std::string_view body, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string StringMember(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

const rapidjson::Value* ObjectMember(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

std::string JoinProblems(const std::vector<community::Diagnostic>& errors) {
  if (errors.size() == 1) return errors.front().ToString();
  std::string joined = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) joined += ", ";
    joined += errors[i].ToString();
  }
  return joined + "]";
}

}  // namespace

std::expected<AdmissionRequest, ReviewError> DecodeReview(std::string_view body) {
  if (!DepthWithin(body, kMaxDepth)) {
    return std::unexpected(ReviewError{"", "JSON nested deeper than 64 levels"});
  }
  auto document = std::make_shared<rapidjson::Document>();
  document->Parse(body.data(), body.size());
  if (document->HasParseError()) {
    return std::unexpected(ReviewError{
        "", std::string("malformed JSON at offset ") + std::to_string(document->GetErrorOffset()) +
                ": " + rapidjson::GetParseError_En(document->GetParseError())});
  }
  if (!document->IsObject()) {
    return std::unexpected(ReviewError{"", "body is not a JSON object"});
  }
  const rapidjson::Value* request = ObjectMember(*document, "request");
  std::string uid = request != nullptr ? StringMember(*request, "uid") : "";
  auto fail = [&](std::string message) {
    return std::unexpected(ReviewError{uid, std::move(message)});
  };
  if (StringMember(*document, "kind") != "AdmissionReview") {
    return fail("kind must be AdmissionReview");
  }
  if (StringMember(*document, "apiVersion") != kReviewApiVersion) {
    return fail("apiVersion must be admission.k8s.io/v1, got \"" +
                StringMember(*document, "apiVersion") + "\"");
  }
  if (request == nullptr) return fail("request is missing");
  if (uid.empty()) return fail("request.uid is missing");

  AdmissionRequest result;
  result.uid = uid;
  const rapidjson::Value* kind = ObjectMember(*request, "kind");
  if (kind == nullptr) return fail("request.kind is missing");
  result.group = StringMember(*kind, "group");
  result.version = StringMember(*kind, "version");
  result.kind = StringMember(*kind, "kind");
  result.name = StringMember(*request, "name");
  result.namespace_name = StringMember(*request, "namespace");
  result.operation = StringMember(*request, "operation");
  if (result.operation != "CREATE" && result.operation != "UPDATE" &&
      result.operation != "DELETE" && result.operation != "CONNECT") {
    return fail("request.operation must be CREATE, UPDATE, DELETE or CONNECT, got \"" +
                result.operation + "\"");
  }
  auto dry_run = request->FindMember("dryRun");
  result.dry_run =
      dry_run != request->MemberEnd() && dry_run->value.IsBool() && dry_run->value.GetBool();
  result.object = ObjectMember(*request, "object");
  result.old_object = ObjectMember(*request, "oldObject");
  if ((result.operation == "CREATE" || result.operation == "UPDATE") && result.object == nullptr) {
    return fail("request.object is missing for " + result.operation);
  }
  if (result.operation == "UPDATE" && result.old_object == nullptr) {
    return fail("request.oldObject is missing for UPDATE");
  }
  if (result.operation == "DELETE" && result.old_object == nullptr) {
    return fail("request.oldObject is missing for DELETE");
  }
  result.document = std::move(document);
  return result;
}

AdmissionResponse AdmissionResponse::Allowed(std::string uid, std::vector<std::string> warnings) {
  AdmissionResponse r;
  r.uid = std::move(uid);
  r.warnings = std::move(warnings);
  return r;
}

AdmissionResponse AdmissionResponse::Denied(std::string uid, std::string_view subject,
                                            const community::Diagnostics& diagnostics) {
  AdmissionResponse r;
  r.uid = std::move(uid);
  r.allowed = false;
  r.code = kDeniedCode;
  r.reason = kDeniedReason;
  r.causes = diagnostics.Errors();
  r.message = std::string(subject) + " is invalid: " + JoinProblems(r.causes);
  r.warnings = WarningTexts(diagnostics);
  return r;
}

AdmissionResponse AdmissionResponse::Errored(std::string uid, int code, std::string reason,
                                             std::string message) {
  AdmissionResponse r;
  r.uid = std::move(uid);
  r.allowed = false;
  r.code = code;
  r.reason = std::move(reason);
  r.message = std::move(message);
  return r;
}

std::vector<std::string> WarningTexts(const community::Diagnostics& diagnostics) {
  std::vector<std::string> texts;
  for (const auto& d : diagnostics.items) {
    if (d.severity == community::Severity::kWarning) texts.push_back(d.ToString());
  }
  return texts;
}

std::string EncodeReview(const AdmissionResponse& response) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  w.Key("apiVersion");
  str(kReviewApiVersion);
  w.Key("kind");
  w.String("AdmissionReview");
  w.Key("response");
  w.StartObject();
  w.Key("uid");
  str(response.uid);
  w.Key("allowed");
  w.Bool(response.allowed);
  if (!response.allowed) {
    w.Key("status");
    w.StartObject();
    w.Key("code");
    w.Int(response.code);
    if (!response.reason.empty()) {
      w.Key("reason");
      str(response.reason);
    }
    w.Key("message");
    str(response.message);
    w.EndObject();
  }
  if (!response.warnings.empty()) {
    w.Key("warnings");
    w.StartArray();
    for (const auto& warning : response.warnings) str(warning);
    w.EndArray();
  }
  if (response.patch && response.allowed) {
    w.Key("patchType");
    w.String("JSONPatch");
    w.Key("patch");
    str(kube::EncodeBase64(*response.patch));
  }
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace bgpcomm::webhook
