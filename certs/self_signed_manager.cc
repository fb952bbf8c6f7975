#include "certs/self_signed_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <sstream>

#include "certs/certificate_authority.h"
#include "certs/inspect.h"
#include "kube/base64.h"
#include "kube/config.h"

namespace bgpcomm::certs {
namespace {

// Retries of one compare-and-swap write before a pass gives up (the next pass retries).
constexpr int kWriteAttempts = 5;
// Certificates start this far in the past so that replicas and the apiserver with
// slightly different clocks accept them at once.
constexpr auto kBackdate = std::chrono::hours(1);

std::string ReadFileOrEmpty(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Writes `content` to `path` through a temporary file and rename(), so that readers
// see the old or the new file, never a part.
std::expected<void, std::string> WriteAtomically(const std::filesystem::path& path,
                                                 const std::string& content) {
  auto temporary = path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) return std::unexpected("cannot write " + temporary.string());
  }
  std::error_code error;
  std::filesystem::permissions(
      temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
  std::filesystem::rename(temporary, path, error);
  if (error) return std::unexpected("cannot rename to " + path.string() + ": " + error.message());
  return {};
}

std::string Iso8601(std::chrono::system_clock::time_point time) {
  time_t seconds = std::chrono::system_clock::to_time_t(time);
  struct tm parts = {};
  gmtime_r(&seconds, &parts);
  char text[32] = {};
  strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace

CertificateManager::CertificateManager(kube::Client& client, const kube::Clock& clock,
                                       CertificateManagerOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

std::vector<std::string> CertificateManager::DnsNames() const {
  const std::string& svc = options_.service_name;
  const std::string& ns = options_.namespace_name;
  return {svc, svc + "." + ns, svc + "." + ns + ".svc",
          svc + "." + ns + ".svc." + options_.cluster_domain};
}

std::expected<CertificateManager::Material, std::string> CertificateManager::Issue() const {
  auto now = clock_.Now();
  CertificateRequest ca_request{.common_name = options_.service_name + "-ca",
                                .not_before = now - kBackdate,
                                .validity = options_.validity + kBackdate};
  auto ca = GenerateCa(ca_request);
  if (!ca) return std::unexpected(ca.error());
  CertificateRequest leaf_request{.common_name = DnsNames()[2],
                                  .dns_names = DnsNames(),
                                  .ip_addresses = options_.ip_addresses,
                                  .not_before = now - kBackdate,
                                  .validity = options_.validity + kBackdate};
  auto leaf = IssueServing(*ca, leaf_request);
  if (!leaf) return std::unexpected(leaf.error());
  return Material{.ca_bundle = ca->certificate,
                  .certificate = leaf->certificate,
                  .private_key = leaf->private_key};
}

std::string CertificateManager::Unusable(const std::string& certificate,
                                         const std::string& private_key,
                                         const std::string& ca_bundle) const {
  auto info = InspectCertificate(certificate);
  if (!info) return "certificate: " + info.error();
  if (!KeyMatchesCertificate(certificate, private_key)) {
    return "the key does not match the certificate";
  }
  for (const auto& name : DnsNames()) {
    if (std::ranges::find(info->dns_names, name) == info->dns_names.end()) {
      return "the certificate does not name " + name;
    }
  }
  auto now = clock_.Now();
  if (info->not_after <= now) return "the certificate expired at " + Iso8601(info->not_after);
  if (auto verified = VerifyCertificate(certificate, ca_bundle, now); !verified) {
    return "the certificate does not verify against ca.crt: " + verified.error();
  }
  return {};
}

bool CertificateManager::SwitchDue(const Material& material) const {
  return !material.next_certificate.empty() &&
         material.published_at + options_.rollover_delay <= clock_.Now();
}

std::expected<std::optional<CertificateManager::Material>, std::string>
CertificateManager::NextState(const Material& stored, bool may_switch) const {
  const auto now = clock_.Now();
  const auto& ns = options_.namespace_name;
  const auto& name = options_.secret_name;
  // The CAs of `bundle` that are still valid, in order.
  auto valid_cas = [&](const std::string& bundle) {
    std::string kept;
    if (auto cas = SplitPemBundle(bundle)) {
      for (const auto& ca : *cas) {
        auto info = InspectCertificate(ca);
        if (info && info->is_ca && info->not_after > now) kept += ca;
      }
    }
    return kept;
  };
  // Step 1: a new CA joins the bundle; its pair waits.
  auto publish = [&](const Material& from) -> std::expected<std::optional<Material>, std::string> {
    auto issued = Issue();
    if (!issued) return std::unexpected(issued.error());
    Material next = from;
    next.ca_bundle = valid_cas(from.ca_bundle) + issued->ca_bundle;
    next.next_certificate = issued->certificate;
    next.next_private_key = issued->private_key;
    next.published_at = now;
    spdlog::info("event=certificate_ca_published secret={}/{} switch_after={}", ns, name,
                 Iso8601(now + options_.rollover_delay));
    return next;
  };
  // Step 2: the waiting pair serves; the previous CA stays until step 3.
  auto switch_to_next = [&](const Material& from) {
    Material next = from;
    next.certificate = from.next_certificate;
    next.private_key = from.next_private_key;
    next.next_certificate.clear();
    next.next_private_key.clear();
    next.published_at = {};
    next.switched_at = now;
    return next;
  };

  std::string current = Unusable(stored.certificate, stored.private_key, stored.ca_bundle);
  const bool pending = !stored.next_certificate.empty();
  std::string waiting =
      pending ? Unusable(stored.next_certificate, stored.next_private_key, stored.ca_bundle) : "";
  if (!current.empty()) {
    // The current pair cannot serve at all: nothing is lost by replacing it at once.
    spdlog::info("event=certificate_rotating secret={}/{} reason=\"tls.crt: {}\" step=immediate",
                 ns, name, current);
    if (pending && waiting.empty()) return switch_to_next(stored);
    auto issued = Issue();
    if (!issued) return std::unexpected(issued.error());
    // Previous CAs stay trusted for a while: replicas may still serve what they signed.
    issued->ca_bundle += valid_cas(stored.ca_bundle);
    issued->switched_at = now;
    return issued;
  }
  if (pending) {
    if (!waiting.empty()) {
      spdlog::info("event=certificate_next_discarded secret={}/{} reason=\"next.crt: {}\"", ns,
                   name, waiting);
      Material without = stored;
      without.next_certificate.clear();
      without.next_private_key.clear();
      return publish(without);
    }
    if (may_switch && SwitchDue(stored)) return switch_to_next(stored);
    return std::nullopt;
  }
  auto info = InspectCertificate(stored.certificate);
  if (info->not_after - options_.rotate_before <= now) {
    spdlog::info("event=certificate_rotating secret={}/{} reason=\"tls.crt expires at {}\"", ns,
                 name, Iso8601(info->not_after));
    return publish(stored);
  }
  // Step 3: once every replica serves the current pair, only its CA stays. Without a
  // recorded switch (a Secret written before rotations were recorded), a previous CA
  // stays until it expires.
  auto cas = SplitPemBundle(stored.ca_bundle);
  std::string kept;
  const bool settled = stored.switched_at != std::chrono::system_clock::time_point{} &&
                       stored.switched_at + options_.rollover_delay <= now;
  for (const auto& ca : *cas) {
    bool signs_current = static_cast<bool>(VerifyCertificate(stored.certificate, ca, now));
    auto ca_info = InspectCertificate(ca);
    bool still_valid = ca_info && ca_info->not_after > now;
    if (signs_current || (!settled && still_valid)) kept += ca;
  }
  if (kept == stored.ca_bundle) return std::nullopt;
  spdlog::info("event=certificate_previous_ca_dropped secret={}/{}", ns, name);
  Material next = stored;
  next.ca_bundle = kept;
  next.switched_at = {};
  return next;
}

nlohmann::json CertificateManager::SecretObject(const Material& material) const {
  nlohmann::json data{{"ca.crt", kube::EncodeBase64(material.ca_bundle)},
                      {"tls.crt", kube::EncodeBase64(material.certificate)},
                      {"tls.key", kube::EncodeBase64(material.private_key)}};
  if (!material.next_certificate.empty()) {
    data["next.crt"] = kube::EncodeBase64(material.next_certificate);
    data["next.key"] = kube::EncodeBase64(material.next_private_key);
  }
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "kubernetes.io/tls"},
          {"metadata",
           {{"name", options_.secret_name},
            {"namespace", options_.namespace_name},
            {"labels", {{"app.kubernetes.io/managed-by", "bgpcomm-webhook"}}}}},
          {"data", data}};
}

namespace {

// The recorded time of `key` in the object's annotations; epoch when absent or unreadable.
std::chrono::system_clock::time_point AnnotatedTime(const nlohmann::json& object, const char* key) {
  const auto* metadata = object.contains("metadata") ? &object["metadata"] : nullptr;
  if (!metadata || !metadata->contains("annotations") || !(*metadata)["annotations"].is_object())
    return {};
  const auto& annotations = (*metadata)["annotations"];
  if (!annotations.contains(key) || !annotations[key].is_string()) return {};
  struct tm parts = {};
  std::string text = annotations[key].get<std::string>();
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  if (end == nullptr || *end != '\0') return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

void Annotate(nlohmann::json& object, const char* key, std::chrono::system_clock::time_point time) {
  auto& annotations = object["metadata"]["annotations"];
  if (time == std::chrono::system_clock::time_point{}) {
    if (annotations.is_object()) annotations.erase(key);
    if (annotations.is_null() || annotations.empty()) object["metadata"].erase("annotations");
  } else {
    annotations[key] = Iso8601(time);
  }
}

}  // namespace

std::expected<CertificateManager::Material, std::string> CertificateManager::EnsureSecret(
    const std::string& trusted_bundle) {
  const auto& ns = options_.namespace_name;
  const auto& name = options_.secret_name;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto stored = client_.Get(resources::kSecrets, ns, name);
    if (!stored) {
      if (!stored.error().IsNotFound()) {
        return std::unexpected("get secret " + name + ": " + stored.error().ToString());
      }
      auto material = Issue();
      if (!material) return std::unexpected(material.error());
      auto created = client_.Create(resources::kSecrets, ns, SecretObject(*material));
      if (created) {
        spdlog::info("event=certificate_secret_created secret={}/{}", ns, name);
        return material;
      }
      // 409 AlreadyExists: another replica created it first; adopt theirs.
      if (created.error().IsConflict()) continue;
      return std::unexpected("create secret " + name + ": " + created.error().ToString());
    }

    Material material;
    static const nlohmann::json kNoData = nlohmann::json::object();
    const auto& data = stored->contains("data") ? (*stored)["data"] : kNoData;
    auto decode = [&](const char* key, std::string& out) {
      if (!data.contains(key) || !data[key].is_string()) return;
      if (auto decoded = kube::DecodeBase64(data[key].get<std::string>())) out = *decoded;
    };
    decode("ca.crt", material.ca_bundle);
    decode("tls.crt", material.certificate);
    decode("tls.key", material.private_key);
    decode("next.crt", material.next_certificate);
    decode("next.key", material.next_private_key);
    material.published_at = AnnotatedTime(*stored, kCaPublishedAnnotation);
    material.switched_at = AnnotatedTime(*stored, kServingSwitchedAnnotation);

    // Switch only to a pair whose CA is in the bundle the caller saw injected.
    auto next =
        NextState(material, !trusted_bundle.empty() && material.ca_bundle == trusted_bundle);
    if (!next) return std::unexpected(next.error());
    if (!*next) return material;
    // PUT with the resourceVersion that was read: a compare-and-swap.
    // The stored type is kept: it is immutable, and the chart's Secret is Opaque (a
    // kubernetes.io/tls Secret would need its keys rendered by every upgrade).
    nlohmann::json object = *stored;
    object["data"] = SecretObject(**next)["data"];
    object.erase("stringData");
    Annotate(object, kCaPublishedAnnotation, (*next)->published_at);
    Annotate(object, kServingSwitchedAnnotation, (*next)->switched_at);
    auto replaced = client_.Replace(resources::kSecrets, ns, name, object);
    if (replaced) {
      if ((*next)->certificate != material.certificate) {
        spdlog::info("event=certificate_serving_switched secret={}/{}", ns, name);
      }
      spdlog::info("event=certificate_secret_updated secret={}/{}", ns, name);
      return **next;
    }
    // 409 Conflict: another replica wrote first; read and judge theirs.
    if (replaced.error().IsConflict()) continue;
    return std::unexpected("update secret " + name + ": " + replaced.error().ToString());
  }
  return std::unexpected("secret " + name + ": gave up after " + std::to_string(kWriteAttempts) +
                         " conflicting writes");
}

std::expected<void, std::string> CertificateManager::WriteFiles(const Material& material) {
  std::error_code error;
  std::filesystem::create_directories(options_.cert_dir, error);
  bool changed = false;
  // The key before the certificate: the hot reload reads the pair when tls.crt changes.
  for (const auto& [path, content] :
       {std::pair{CaFile(), &material.ca_bundle}, std::pair{KeyFile(), &material.private_key},
        std::pair{CertFile(), &material.certificate}}) {
    if (ReadFileOrEmpty(path) == *content) continue;
    if (auto written = WriteAtomically(path, *content); !written) return written;
    changed = true;
  }
  auto info = InspectCertificate(material.certificate);
  {
    std::lock_guard lock(mutex_);
    files_not_after_ = info->not_after;
    files_not_before_ = info->not_before;
  }
  if (changed) {
    spdlog::info("event=certificate_files_written dir={} not_after={}", options_.cert_dir.string(),
                 Iso8601(info->not_after));
  }
  return {};
}

std::expected<void, std::string> CertificateManager::InjectCa(const kube::Resource& resource,
                                                              const std::string& name,
                                                              const std::string& ca_bundle) {
  std::string encoded = kube::EncodeBase64(ca_bundle);
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto stored = client_.Get(resource, "", name);
    if (!stored) {
      return std::unexpected("get " + resource.plural + " " + name + ": " +
                             stored.error().ToString());
    }
    bool changed = false;
    auto& webhooks = (*stored)["webhooks"];
    if (!webhooks.is_array())
      return std::unexpected(resource.plural + " " + name + ": no webhooks");
    for (auto& webhook : webhooks) {
      auto& client_config = webhook["clientConfig"];
      if (client_config.value("caBundle", "") == encoded) continue;
      client_config["caBundle"] = encoded;
      changed = true;
    }
    if (!changed) return {};
    auto replaced = client_.Replace(resource, "", name, *stored);
    if (replaced) {
      spdlog::info("event=ca_bundle_injected {}={}", resource.kind, name);
      return {};
    }
    if (replaced.error().IsConflict()) continue;
    return std::unexpected("update " + resource.plural + " " + name + ": " +
                           replaced.error().ToString());
  }
  return std::unexpected(resource.plural + " " + name + ": gave up after " +
                         std::to_string(kWriteAttempts) + " conflicting writes");
}

std::expected<void, std::string> CertificateManager::InjectAll(const std::string& ca_bundle) {
  std::string errors;
  for (const auto& [resource, name] : {std::pair{&resources::kValidatingWebhookConfigurations,
                                                 &options_.validating_webhook_configuration},
                                       std::pair{&resources::kMutatingWebhookConfigurations,
                                                 &options_.mutating_webhook_configuration}}) {
    if (name->empty()) continue;
    if (auto injected = InjectCa(*resource, *name, ca_bundle); !injected) {
      errors += (errors.empty() ? "" : "; ") + injected.error();
    }
  }
  if (!errors.empty()) return std::unexpected(errors);
  return {};
}

std::expected<void, std::string> CertificateManager::Reconcile() {
  auto material = EnsureSecret(/*trusted_bundle=*/"");
  if (!material) return std::unexpected(material.error());
  if (auto written = WriteFiles(*material); !written) return written;
  auto injected = InjectAll(material->ca_bundle);
  // Switch only after this pass saw every caBundle carry the new CA (and the Secret
  // still holds the bundle that was injected: another replica may have published anew).
  if (!injected || !SwitchDue(*material)) return injected;
  const std::string trusted = material->ca_bundle;
  material = EnsureSecret(trusted);
  if (!material) return std::unexpected(material.error());
  if (auto written = WriteFiles(*material); !written) return written;
  return InjectAll(material->ca_bundle);
}

void CertificateManager::Run(std::stop_token stop, kube::Sleeper& sleeper, kube::Duration interval,
                             kube::Duration retry) {
  while (!stop.stop_requested()) {
    auto reconciled = Reconcile();
    if (!reconciled) {
      spdlog::warn("event=certificate_reconcile_failed error=\"{}\"", reconciled.error());
    }
    if (!sleeper.SleepFor(reconciled ? interval : retry, stop)) return;
  }
}

bool CertificateManager::HasValidCertificate() const {
  auto now = clock_.Now();
  std::lock_guard lock(mutex_);
  return files_not_before_ <= now && now < files_not_after_;
}

}  // namespace bgpcomm::certs
