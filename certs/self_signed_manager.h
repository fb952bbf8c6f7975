// `--cert-mode=self`: the webhook keeps its own CA and serving certificate in a Secret,
// serves them from files (hot reload picks up changes) and injects the CA into its
// webhook configurations.
//
// Several replicas run the same loop against one Secret. Every write is a
// compare-and-swap: a CREATE that answers 409 means another replica won, so its Secret
// is read and adopted; a rotation is a PUT carrying the resourceVersion that was read,
// so two replicas rotating at once cannot both win.
//
// A rotation takes three passes, each at least `rollover_delay` after the previous one,
// so that no API server ever meets a certificate it does not trust:
//   1. publish: a new CA and a serving pair it signed are made; the CA joins `ca.crt`
//      (and so every caBundle) beside the current one, the new pair waits in
//      `next.crt`/`next.key`; every replica keeps serving the current pair.
//   2. switch: once the caBundles carry the new CA and `rollover_delay` has passed (the
//      API servers have reloaded their webhook configurations), the new pair becomes
//      `tls.crt`/`tls.key` and the replicas serve it as they read the Secret.
//   3. drop: `rollover_delay` after the switch (every replica has read the Secret since)
//      the previous CA leaves `ca.crt` and the caBundles.
// The Secret's annotations record when steps 1 and 2 happened, so any replica carries
// a rotation on. A Secret whose pair cannot serve at all (expired, wrong names, key
// mismatch) is replaced at once: nothing trusted is lost by that.
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
  // The least time between the steps of a rotation: longer than the API servers take
  // to load a changed caBundle and than two `Run` intervals (every replica reads the
  // Secret in between); shorter than `rotate_before`.
  std::chrono::seconds rollover_delay = std::chrono::minutes(5);
};

// Annotations of the Secret recording a rotation's progress (RFC 3339 UTC times).
inline constexpr char kCaPublishedAnnotation[] = "bgpcomm.io/ca-published-at";
inline constexpr char kServingSwitchedAnnotation[] = "bgpcomm.io/serving-switched-at";

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

  // One pass: makes the Secret hold a certificate valid for the Service names (creating,
  // adopting it, or taking a rotation one step further), writes the files when they
  // differ, and sets caBundle on every webhook of both configurations. A new serving
  // pair is switched to only after every configured caBundle was seen to carry its CA
  // in this pass. A missing webhook configuration is reported as an error after the
  // files are written.
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
    std::string ca_bundle;  // PEM: every CA the API servers are to trust now
    std::string certificate;
    std::string private_key;
    // A rotation between publish and switch: the pair to serve next (its CA is in
    // ca_bundle already).
    std::string next_certificate;
    std::string next_private_key;
    std::chrono::system_clock::time_point published_at{};  // epoch: not recorded
    std::chrono::system_clock::time_point switched_at{};   // epoch: not recorded
  };

  // Reads the Secret and writes it when a step is due (creating it when absent). The
  // switch (step 2) is taken only when the Secret's ca.crt is `trusted_bundle` (the
  // bundle the caller has seen injected); empty: never.
  std::expected<Material, std::string> EnsureSecret(const std::string& trusted_bundle);
  // The Secret's next state after `stored`, or nullopt when it stays as it is.
  std::expected<std::optional<Material>, std::string> NextState(const Material& stored,
                                                                bool may_switch) const;
  // A new CA and a serving pair it signed.
  std::expected<Material, std::string> Issue() const;
  // Empty when the pair (`certificate`, `private_key`) names the Service, verifies
  // against `ca_bundle` and is valid now; else why not.
  std::string Unusable(const std::string& certificate, const std::string& private_key,
                       const std::string& ca_bundle) const;
  bool SwitchDue(const Material& material) const;
  std::expected<void, std::string> InjectAll(const std::string& ca_bundle);
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
