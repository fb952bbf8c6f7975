// bgpcomm-webhook: wires the Kubernetes client, the cache, the resolver and the HTTPS
// server together. Everything it does is in the libraries; this file only connects them.
#include <prometheus/exposer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <thread>

#include "certs/self_signed_manager.h"
#include "community/duration.h"
#include "kube/clock.h"
#include "kube/config.h"
#include "kube/leader_election.h"
#include "webhook/cluster_view.h"
#include "webhook/resolver.h"
#include "webhook/server.h"

namespace {

using namespace bgpcomm;

struct Flags {
  std::string kubeconfig;
  std::string namespace_name{community::kDefaultNamespace};
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string client_ca_file;
  std::string bind_address = "0.0.0.0";
  int port = 9443;
  std::string metrics_address = ":8080";
  std::string health_address = ":8081";
  std::string unresolved = "reject";
  std::string expand = "annotation";
  std::string cert_mode = "files";
  std::string log_level = "info";
  std::size_t threads = 8;
  bool leader_elect = true;
  std::string lease_name = "bgpcomm-resolver";
  // --cert-mode=self
  std::string cert_namespace;
  std::string cert_secret_name = "bgpcomm-webhook-cert";
  std::string service_name = "bgpcomm-webhook";
  std::string cluster_domain = "cluster.local";
  std::string cert_dir = "/tmp/bgpcomm-webhook-certs";
  std::string validating_config = "bgpcomm-webhook";
  std::string mutating_config = "bgpcomm-webhook";
  std::vector<std::string> cert_ip_addresses;
  std::string cert_validity = "8760h";
  std::string cert_rotate_before = "720h";
  std::string cert_check_interval = "1m";
};

// A duration flag ("8760h", "1m30s", Go syntax) in whole seconds; at least 1s.
std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  auto parsed = community::ParseGoDuration(text);
  if (!parsed) return std::nullopt;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
  if (seconds < std::chrono::seconds(1)) return std::nullopt;
  return seconds;
}

// ":8080" -> ("0.0.0.0", 8080); "127.0.0.1:0" -> ("127.0.0.1", 0); "0" disables.
std::optional<std::pair<std::string, int>> SplitAddress(const std::string& address) {
  if (address.empty() || address == "0") return std::nullopt;
  auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return std::make_pair(host, std::stoi(port));
}

int Run(const Flags& flags) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  // Signals are taken by one thread with sigwait(); block them everywhere else.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  community::AdmissionOptions options{.configured_namespace = flags.namespace_name};
  options.unresolved = flags.unresolved == "warn" ? community::UnresolvedPolicy::kWarn
                                                  : community::UnresolvedPolicy::kReject;
  options.expand = flags.expand == "in-place" ? community::ExpandMode::kInPlace
                                              : community::ExpandMode::kAnnotation;

  auto config =
      flags.kubeconfig.empty() ? kube::InClusterConfig() : kube::LoadKubeconfig(flags.kubeconfig);
  if (!config) {
    spdlog::error("event=startup_failed error=\"{}\"", config.error().ToString());
    return 2;
  }
  auto client = kube::Client::New(*config);
  if (!client) {
    spdlog::error("event=startup_failed error=\"{}\"", client.error().ToString());
    return 2;
  }

  // --cert-mode=self: the certificate comes from the Secret the manager keeps; serving
  // starts once its files hold a valid certificate.
  kube::RealClock cert_clock;
  std::unique_ptr<certs::CertificateManager> cert_manager;
  std::string cert_file = flags.tls_cert_file;
  std::string key_file = flags.tls_key_file;
  if (flags.cert_mode == "self") {
    std::string cert_namespace = flags.cert_namespace;
    if (cert_namespace.empty() && flags.kubeconfig.empty()) cert_namespace = config->namespace_name;
    if (cert_namespace.empty()) cert_namespace = flags.namespace_name;
    cert_manager = std::make_unique<certs::CertificateManager>(
        **client, cert_clock,
        certs::CertificateManagerOptions{
            .namespace_name = cert_namespace,
            .secret_name = flags.cert_secret_name,
            .service_name = flags.service_name,
            .cluster_domain = flags.cluster_domain,
            .ip_addresses = flags.cert_ip_addresses,
            .validating_webhook_configuration = flags.validating_config,
            .mutating_webhook_configuration = flags.mutating_config,
            .cert_dir = flags.cert_dir,
            .validity = *ParseDuration(flags.cert_validity),
            .rotate_before = *ParseDuration(flags.cert_rotate_before)});
    for (;;) {
      auto reconciled = cert_manager->Reconcile();
      if (!reconciled) {
        spdlog::warn("event=certificate_reconcile_failed error=\"{}\"", reconciled.error());
      }
      if (cert_manager->HasValidCertificate()) break;
      timespec retry{.tv_sec = 5, .tv_nsec = 0};
      if (sigtimedwait(&signals, nullptr, &retry) > 0) return 0;
    }
    cert_file = cert_manager->CertFile().string();
    key_file = cert_manager->KeyFile().string();
  }
  auto certificate = certs::ServingCertificate::Load(cert_file, key_file, std::chrono::seconds(1),
                                                     flags.client_ca_file);
  if (!certificate) {
    spdlog::error("event=startup_failed error=\"{}\"", certificate.error());
    return 2;
  }

  webhook::WebhookMetrics metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  if (auto address = SplitAddress(flags.metrics_address)) {
    exposer = std::make_unique<prometheus::Exposer>(address->first + ":" +
                                                    std::to_string(address->second));
    exposer->RegisterCollectable(metrics.registry());
  }
  (*certificate)->on_error = [&metrics](const std::string& error) {
    metrics.RecordCertificateReload(false);
    spdlog::error("event=certificate_reload_failed error=\"{}\"", error);
  };
  (*certificate)->on_reload = [&metrics, &certificate] {
    metrics.RecordCertificateReload(true);
    metrics.SetCertificateExpiry((*certificate)->NotAfter());
    spdlog::info("event=certificate_reloaded");
  };
  metrics.SetCertificateExpiry((*certificate)->NotAfter());

  webhook::MetallbCache cache(**client, flags.namespace_name);
  webhook::ClusterView view(**client, cache, flags.namespace_name);
  webhook::Resolver resolver(**client, cache, flags.namespace_name, options, metrics);
  cache.OnChange([&](const kube::Resource& resource) {
    view.InvalidateSnapshots();
    // An alias changed or appeared, or an advertisement was stored: a pass is a no-op for
    // every advertisement whose annotation is already right.
    if (resource == objectjson::kCommunities ||
        resource == objectjson::kBGPAdvertisements) {
      resolver.Trigger();
    }
    webhook::MetallbObjects cached = cache.Objects(flags.namespace_name);
    metrics.SetCachedObjects(
        resource.kind,
        static_cast<double>(resource == objectjson::kCommunities ? cached.communities.size()
                            : resource == objectjson::kBGPAdvertisements
                                ? cached.advertisements.size()
                            : resource == objectjson::kIPAddressPools ? cached.pools.size()
                                                                           : cached.peers.size()));
  });
  cache.Start();

  auto ready = [&] {
    bool synced = cache.HasSynced();
    metrics.SetCacheSynced(synced);
    return synced && (*certificate)->NotAfter() > std::chrono::system_clock::now() &&
           (!cert_manager || cert_manager->HasValidCertificate());
  };

  webhook::ServerOptions server_options{
      .bind_address = flags.bind_address, .port = flags.port, .threads = flags.threads};
  webhook::WebhookServer server(
      server_options, **certificate,
      [&](webhook::Endpoint endpoint, const webhook::AdmissionRequest& request) {
        webhook::AdmissionResponse response = webhook::Decide(endpoint, request, view, options);
        // 503 is Decide's answer when a read-through LIST failed.
        if (response.code == 503) metrics.RecordApiError("list");
        return response;
      },
      metrics, ready);
  auto port = server.Bind();
  if (!port) {
    spdlog::error("event=startup_failed error=\"{}\"", port.error());
    return 2;
  }

  httplib::Server health;
  std::jthread health_thread;
  if (auto address = SplitAddress(flags.health_address)) {
    health.Get("/healthz", [](const httplib::Request&, httplib::Response& out) {
      out.set_content("ok\n", "text/plain");
    });
    health.Get("/readyz", [&](const httplib::Request&, httplib::Response& out) {
      bool ok = server.accepting() && ready();
      out.status = ok ? 200 : 503;
      out.set_content(ok ? "ok\n" : "not ready\n", "text/plain");
    });
    if (!health.bind_to_port(address->first, address->second)) {
      spdlog::error("event=startup_failed error=\"cannot bind health probes to {}\"",
                    flags.health_address);
      return 2;
    }
    health_thread = std::jthread([&health] { health.listen_after_bind(); });
  }

  kube::RealClock clock;
  kube::RealSleeper sleeper;
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  std::atomic<bool> leading{!flags.leader_elect};
  kube::LeaderElector elector(**client,
                              {.lease_namespace = flags.namespace_name,
                               .lease_name = flags.lease_name,
                               .identity = std::string(hostname) + "_" + std::to_string(getpid()),
                               .on_started_leading =
                                   [&] {
                                     leading = true;
                                     resolver.Trigger();
                                     spdlog::info("event=leading lease={}", flags.lease_name);
                                   },
                               .on_stopped_leading =
                                   [&] {
                                     leading = false;
                                     spdlog::info("event=stopped_leading lease={}",
                                                  flags.lease_name);
                                   }},
                              clock, sleeper);
  std::jthread cert_rotation;
  if (cert_manager) {
    cert_rotation = std::jthread([&](std::stop_token stop) {
      cert_manager->Run(stop, sleeper, *ParseDuration(flags.cert_check_interval));
    });
  }
  std::jthread election;
  if (flags.leader_elect) election = std::jthread([&](std::stop_token stop) { elector.Run(stop); });
  std::jthread resolving(
      [&](std::stop_token stop) { resolver.Run(stop, [&] { return leading.load(); }); });

  std::jthread signal_waiter([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    spdlog::info("event=draining signal={}", signal);
    server.Shutdown();
  });

  spdlog::info("event=serving port={} namespace={} unresolved_aliases={} expand={}", *port,
               flags.namespace_name, flags.unresolved, flags.expand);
  server.Serve();
  spdlog::info("event=drained");

  resolving.request_stop();
  cert_rotation.request_stop();
  election.request_stop();
  if (election.joinable()) election.join();
  health.stop();
  cache.Stop();
  if (signal_waiter.joinable()) signal_waiter.detach();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"bgpcomm-webhook: admission webhook for BGP community aliases (metallb.io)"};
  app.add_option("--kubeconfig", flags.kubeconfig,
                 "kubeconfig file; in-cluster configuration when empty");
  app.add_option("--namespace", flags.namespace_name, "namespace the speaker reads")
      ->capture_default_str();
  app.add_option("--tls-cert-file", flags.tls_cert_file, "serving certificate (PEM)");
  app.add_option("--tls-private-key-file", flags.tls_key_file, "serving key (PEM)");
  app.add_option("--client-ca-file", flags.client_ca_file,
                 "CA bundle (PEM) that clients' certificates must verify against; when set, "
                 "every connection must present one (the apiserver's --admission-control-"
                 "config-file client certificate); empty: none is requested");
  app.add_option("--bind-address", flags.bind_address, "address of the HTTPS server")
      ->capture_default_str();
  app.add_option("--port", flags.port, "port of the HTTPS server (0: any free port)")
      ->capture_default_str();
  app.add_option("--metrics-bind-address", flags.metrics_address,
                 "address of /metrics (\"0\" disables)")
      ->capture_default_str();
  app.add_option("--health-probe-bind-address", flags.health_address,
                 "address of /healthz and /readyz (\"0\" disables)")
      ->capture_default_str();
  app.add_option("--unresolved-aliases", flags.unresolved,
                 "reject: deny unknown aliases; warn: admit and resolve later")
      ->check(CLI::IsMember({"reject", "warn"}))
      ->capture_default_str();
  app.add_option("--expand", flags.expand,
                 "annotation: store the resolution only in the annotation; in-place: also "
                 "write the values into spec.communities")
      ->check(CLI::IsMember({"annotation", "in-place"}))
      ->capture_default_str();
  app.add_option("--cert-mode", flags.cert_mode,
                 "files: certificate from --tls-* files; self: keep a CA and serving "
                 "certificate in a Secret, rotate it and inject the CA into the webhook "
                 "configurations")
      ->check(CLI::IsMember({"self", "files"}))
      ->capture_default_str();
  auto duration = CLI::Validator(
      [](std::string& text) {
        return ParseDuration(text) ? std::string() : "expected a duration such as 720h";
      },
      "DURATION");
  app.add_option("--cert-namespace", flags.cert_namespace,
                 "self: namespace of the Secret (default: the service account's in a "
                 "pod, else --namespace)");
  app.add_option("--cert-secret-name", flags.cert_secret_name,
                 "self: Secret holding ca.crt, tls.crt and tls.key")
      ->capture_default_str();
  app.add_option("--service-name", flags.service_name,
                 "self: the webhook's Service; the certificate names svc, svc.ns, svc.ns.svc "
                 "and svc.ns.svc.<cluster domain>")
      ->capture_default_str();
  app.add_option("--cluster-domain", flags.cluster_domain, "self: the cluster's DNS domain")
      ->capture_default_str();
  app.add_option("--cert-ip-address", flags.cert_ip_addresses,
                 "self: extra subjectAltName IP (repeatable), for webhooks registered by URL");
  app.add_option("--cert-dir", flags.cert_dir,
                 "self: writable folder the certificate files are served from")
      ->capture_default_str();
  app.add_option("--validating-webhook-configuration", flags.validating_config,
                 "self: ValidatingWebhookConfiguration whose webhooks get the CA (\"\": none)")
      ->capture_default_str();
  app.add_option("--mutating-webhook-configuration", flags.mutating_config,
                 "self: MutatingWebhookConfiguration whose webhooks get the CA (\"\": none)")
      ->capture_default_str();
  app.add_option("--cert-validity", flags.cert_validity, "self: lifetime of new certificates")
      ->check(duration)
      ->capture_default_str();
  app.add_option("--cert-check-interval", flags.cert_check_interval,
                 "self: how often the Secret and the caBundles are checked")
      ->check(duration)
      ->capture_default_str();
  app.add_option("--cert-rotate-before", flags.cert_rotate_before,
                 "self: replace a certificate with less than this left")
      ->check(duration)
      ->capture_default_str();
  app.add_option("--threads", flags.threads, "HTTPS worker threads")->capture_default_str();
  app.add_option("--leader-elect", flags.leader_elect,
                 "elect one resolver through a Lease (false: always resolve)")
      ->capture_default_str();
  app.add_option("--leader-election-id", flags.lease_name, "name of the resolver's Lease")
      ->capture_default_str();
  app.add_option("--log-level", flags.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (flags.cert_mode == "files" && (flags.tls_cert_file.empty() || flags.tls_key_file.empty())) {
    std::cerr << "--cert-mode=files needs --tls-cert-file and --tls-private-key-file\n";
    return 2;
  }
  if (flags.cert_mode == "self" &&
      *ParseDuration(flags.cert_rotate_before) >= *ParseDuration(flags.cert_validity)) {
    std::cerr << "--cert-rotate-before must be shorter than --cert-validity\n";
    return 2;
  }
  try {
    return Run(flags);
  } catch (const std::exception& e) {
    spdlog::critical("event=crashed error=\"{}\"", e.what());
    return 1;
  }
}
