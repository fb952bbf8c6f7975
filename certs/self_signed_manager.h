// `--cert-mode=self`: the webhook keeps its own CA and serving certificate in a Secret,
// serves them from files (hot reload picks up changes) and injects the CA into its
// webhook configurations.
//
// Several replicas run the same loop against one Secret. Every write is a
// compare-and-swap: a CREATE that answers 409 means another replica won, so its Secret
// is read and adopted; a rotation is a PUT carrying the resourceVersion that was read,
// so two replicas rotating at once cannot both win. During a rotation the previous CA
// stays in `ca.crt` (after the new one) until it expires, so the apiserver trusts both
// the replicas that still serve the old certificate and those serving the new one.
#pragma once

#include <chrono>
#include <expected>
#include <filesystem>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/clock.h"

namespace bgpcomm::certs {

struct CertificateManagerOptions {
  std::string namespace_name;
  std::string secret_name = "bgpcomm-webhook-cert";
  // The webhook's Service: the certificate names svc, svc.ns, svc.ns.svc and
  // svc.ns.svc.<cluster_domain>.
  std::string service_name;
  std::string cluster_domain = "cluster.local";
  // Extra subjectAltName IPs (local runs registered by URL, e.g. 127.0.0.1).
  std::vector<std::string> ip_addresses;
  // Webhook configurations whose every webhook gets the CA bundle; an empty name is
  // skipped.
  std::string validating_webhook_configuration;
  std::string mutating_webhook_configuration;
  // Where ca.crt, tls.crt and tls.key are written (an emptyDir in the chart).
  std::filesystem::path cert_dir;
  std::chrono::seconds validity = std::chrono::hours(8760);
  // A certificate with less than this left is replaced.
  std::chrono::seconds rotate_before = std::chrono::hours(720);
};

// The cluster objects the manager touches.
namespace resources {
inline const kube::Resource kSecrets{"", "v1", "secrets", "Secret"};
inline const kube::Resource kValidatingWebhookConfigurations{
    "admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations",
    "ValidatingWebhookConfiguration", false};
inline const kube::Resource kMutatingWebhookConfigurations{"admissionregistration.k8s.io", "v1",
                                                           "mutatingwebhookconfigurations",
                                                           "MutatingWebhookConfiguration", false};
}  // namespace resources

class CertificateManager {
 public:
  // `client` and `clock` must outlive the manager.
  CertificateManager(kube::Client& client, const kube::Clock& clock,
                     CertificateManagerOptions options);
  CertificateManager(const CertificateManager&) = delete;
  CertificateManager& operator=(const CertificateManager&) = delete;

  // One pass: makes the Secret hold a certificate valid for the Service names for more
  // than `rotate_before` (creating, adopting or rotating it), writes the files when
  // they differ, and sets caBundle on every webhook of both configurations. A missing
  // webhook configuration is reported as an error after the files are written.
  std::expected<void, std::string> Reconcile();

  // Runs Reconcile now and then every `interval` (every `retry` after a failure) until
  // `stop`; failures are logged.
  void Run(std::stop_token stop, kube::Sleeper& sleeper,
           kube::Duration interval = std::chrono::minutes(1),
           kube::Duration retry = std::chrono::seconds(5));

  // True when the files hold a certificate that is valid now.
  bool HasValidCertificate() const;
  // The DNS names the certificate must carry.
  std::vector<std::string> DnsNames() const;
  std::filesystem::path CertFile() const { return options_.cert_dir / "tls.crt"; }
  std::filesystem::path KeyFile() const { return options_.cert_dir / "tls.key"; }
  std::filesystem::path CaFile() const { return options_.cert_dir / "ca.crt"; }

 private:
  struct Material {
    std::string ca_bundle;  // PEM: the current CA first, then a previous one
    std::string certificate;
    std::string private_key;
  };

  std::expected<Material, std::string> EnsureSecret();
  std::expected<Material, std::string> Issue(const std::string& previous_bundle) const;
  // Empty when `material` can serve until after the rotation point; else why not.
  std::string Problem(const Material& material) const;
  nlohmann::json SecretObject(const Material& material) const;
  std::expected<void, std::string> WriteFiles(const Material& material);
  std::expected<void, std::string> InjectCa(const kube::Resource& resource, const std::string& name,
                                            const std::string& ca_bundle);

  kube::Client& client_;
  const kube::Clock& clock_;
  CertificateManagerOptions options_;
  mutable std::mutex mutex_;
  std::chrono::system_clock::time_point files_not_after_{};
  std::chrono::system_clock::time_point files_not_before_{};
};

}  // namespace bgpcomm::certs
