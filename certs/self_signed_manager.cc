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

std::expected<CertificateManager::Material, std::string> CertificateManager::Issue(
    const std::string& previous_bundle) const {
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
  Material material{.ca_bundle = ca->certificate,
                    .certificate = leaf->certificate,
                    .private_key = leaf->private_key};
  // Keep the CA that signed the certificate being replaced, while it is valid, so
  // that replicas still serving it stay trusted until they load the new one.
  if (auto previous = SplitPemBundle(previous_bundle)) {
    auto info = InspectCertificate(previous->front());
    if (info && info->is_ca && info->not_after > now) material.ca_bundle += previous->front();
  }
  return material;
}

std::string CertificateManager::Problem(const Material& material) const {
  auto info = InspectCertificate(material.certificate);
  if (!info) return "tls.crt: " + info.error();
  if (!KeyMatchesCertificate(material.certificate, material.private_key)) {
    return "tls.key does not match tls.crt";
  }
  for (const auto& name : DnsNames()) {
    if (std::ranges::find(info->dns_names, name) == info->dns_names.end()) {
      return "tls.crt does not name " + name;
    }
  }
  auto now = clock_.Now();
  if (info->not_after - options_.rotate_before <= now) {
    return "tls.crt expires at " + Iso8601(info->not_after);
  }
  if (auto verified = VerifyCertificate(material.certificate, material.ca_bundle, now); !verified) {
    return "tls.crt does not verify against ca.crt: " + verified.error();
  }
  return {};
}

nlohmann::json CertificateManager::SecretObject(const Material& material) const {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"type", "kubernetes.io/tls"},
          {"metadata",
           {{"name", options_.secret_name},
            {"namespace", options_.namespace_name},
            {"labels", {{"app.kubernetes.io/managed-by", "bgpcomm-webhook"}}}}},
          {"data",
           {{"ca.crt", kube::EncodeBase64(material.ca_bundle)},
            {"tls.crt", kube::EncodeBase64(material.certificate)},
            {"tls.key", kube::EncodeBase64(material.private_key)}}}};
}

std::expected<CertificateManager::Material, std::string> CertificateManager::EnsureSecret() {
  const auto& ns = options_.namespace_name;
  const auto& name = options_.secret_name;
  for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
    auto stored = client_.Get(resources::kSecrets, ns, name);
    if (!stored) {
      if (!stored.error().IsNotFound()) {
        return std::unexpected("get secret " + name + ": " + stored.error().ToString());
      }
      auto material = Issue("");
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
    std::string problem;
    static const nlohmann::json kNoData = nlohmann::json::object();
    auto decode = [&](const char* key, std::string& out) {
      const auto& data = stored->contains("data") ? (*stored)["data"] : kNoData;
      if (!data.contains(key) || !data[key].is_string()) {
        if (problem.empty()) problem = std::string("no ") + key;
        return;
      }
      auto decoded = kube::DecodeBase64(data[key].get<std::string>());
      if (decoded) {
        out = *decoded;
      } else if (problem.empty()) {
        problem = std::string(key) + ": " + decoded.error();
      }
    };
    decode("ca.crt", material.ca_bundle);
    decode("tls.crt", material.certificate);
    decode("tls.key", material.private_key);
    if (problem.empty()) problem = Problem(material);

    if (problem.empty()) {
      // Drop previous CAs once they have expired: nothing they signed can serve.
      auto cas = SplitPemBundle(material.ca_bundle);
      std::string kept = cas->front();
      for (std::size_t i = 1; i < cas->size(); ++i) {
        auto info = InspectCertificate((*cas)[i]);
        if (info && info->not_after > clock_.Now()) kept += (*cas)[i];
      }
      if (kept == material.ca_bundle) return material;
      spdlog::info("event=certificate_previous_ca_dropped secret={}/{}", ns, name);
      material.ca_bundle = kept;
    } else {
      spdlog::info("event=certificate_rotating secret={}/{} reason=\"{}\"", ns, name, problem);
      auto issued = Issue(material.ca_bundle);
      if (!issued) return std::unexpected(issued.error());
      material = *issued;
    }
    // PUT with the resourceVersion that was read: a compare-and-swap.
    nlohmann::json object = *stored;
    object["data"] = SecretObject(material)["data"];
    object.erase("stringData");
    auto replaced = client_.Replace(resources::kSecrets, ns, name, object);
    if (replaced) {
      spdlog::info("event=certificate_secret_updated secret={}/{}", ns, name);
      return material;
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

std::expected<void, std::string> CertificateManager::Reconcile() {
  auto material = EnsureSecret();
  if (!material) return std::unexpected(material.error());
  if (auto written = WriteFiles(*material); !written) return written;
  std::string errors;
  for (const auto& [resource, name] : {std::pair{&resources::kValidatingWebhookConfigurations,
                                                 &options_.validating_webhook_configuration},
                                       std::pair{&resources::kMutatingWebhookConfigurations,
                                                 &options_.mutating_webhook_configuration}}) {
    if (name->empty()) continue;
    if (auto injected = InjectCa(*resource, *name, material->ca_bundle); !injected) {
      errors += (errors.empty() ? "" : "; ") + injected.error();
    }
  }
  if (!errors.empty()) return std::unexpected(errors);
  return {};
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
