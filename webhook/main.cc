// bgpcomm-webhook: wires the Kubernetes client, the cache, the resolver and the HTTPS
// server together. Everything it does is in the libraries; this file only connects them.
#include <prometheus/exposer.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <thread>

#include "certs/self_signed_manager.h"
#include "community/duration.h"
#include "kube/clock.h"
#include "kube/config.h"
#include "kube/guarded.h"
#include "kube/leader_election.h"
#include "kube/events.h"
#include "objectjson/metallb.h"
#include "objectjson/metallb_resources.h"
#include "webhook/allocator_controller.h"
#include "webhook/cluster_view.h"
#include "webhook/resolver.h"
#include "webhook/server.h"
#include "version/version.h"

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
  // The HTTPS server's connections (webhook::ConnectionLimits).
  std::size_t max_connections = 512;
  std::string handshake_timeout = "3s";
  std::string request_timeout = "3s";
  std::string response_timeout = "3s";
  std::string idle_timeout = "3s";
  bool leader_elect = true;
  std::string lease_name = "bgpcomm-resolver";
  bool allocate_addresses = true;
  std::string lb_class;
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
  std::string cert_rollover_delay = "5m";
  std::string shutdown_delay = "0s";
  std::string read_through_timeout = "3s";
};

// A duration flag ("8760h", "1m30s", Go syntax) in whole seconds; at least 1s.
std::optional<std::chrono::seconds> ParseDuration(const std::string& text) {
  auto parsed = community::ParseGoDuration(text);
  if (!parsed) return std::nullopt;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(*parsed);
  if (seconds < std::chrono::seconds(1)) return std::nullopt;
  return seconds;
}

// --shutdown-delay: a Go duration of zero or more, in whole seconds.
std::optional<std::chrono::seconds> ParseDelay(const std::string& text) {
  auto parsed = community::ParseGoDuration(text);
  if (!parsed || parsed->count() < 0) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(*parsed);
}

// A connection deadline flag: a Go duration above zero, in milliseconds.
std::optional<std::chrono::milliseconds> ParseTimeout(const std::string& text) {
  auto parsed = community::ParseGoDuration(text);
  if (!parsed) return std::nullopt;
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  if (millis.count() <= 0) return std::nullopt;
  return millis;
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

community::AdmissionOptions AdmissionOptionsFrom(const Flags& flags) {
  community::AdmissionOptions options{.configured_namespace = flags.namespace_name};
  options.unresolved = flags.unresolved == "warn" ? community::UnresolvedPolicy::kWarn
                                                  : community::UnresolvedPolicy::kReject;
  options.expand = flags.expand == "in-place" ? community::ExpandMode::kInPlace
                                              : community::ExpandMode::kAnnotation;
  return options;
}

// Signals are taken by one thread with sigwait(); blocked everywhere else.
sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The webhook process's object graph: built (and checked) by Build(), run by Serve().
// Members are declared in dependency order, so that destruction runs in reverse.
struct Webhook {
  Flags flags;
  community::AdmissionOptions options;
  sigset_t signals{};
  kube::RealClock clock;
  kube::RealSleeper sleeper;
  std::unique_ptr<kube::Client> client;
  // The read-through LISTs' own client: its timeouts are the read-through deadline.
  std::unique_ptr<kube::Client> read_client;
  std::unique_ptr<certs::CertificateManager> cert_manager;
  std::unique_ptr<certs::ServingCertificate> certificate;
  webhook::WebhookMetrics metrics;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::unique_ptr<webhook::MetallbCache> cache;
  // Services of every namespace: the addresses an IPAddressPool change takes away. Only
  // with --allocate-addresses=false; otherwise the allocator's informer serves the view.
  std::unique_ptr<kube::Informer> services;
  std::unique_ptr<webhook::ClusterView> view;
  std::unique_ptr<webhook::Resolver> resolver;
  std::unique_ptr<kube::EventRecorder> events;
  std::unique_ptr<webhook::AllocatorController> allocator;  // --allocate-addresses
  std::unique_ptr<webhook::WebhookServer> server;
  int port = 0;
  // /healthz and /readyz for the kubelet (--health-probe-bind-address), plain HTTP.
  std::unique_ptr<webhook::WebhookServer> health;
  std::atomic<bool> leading{false};
  std::unique_ptr<kube::LeaderElector> elector;
  // Asked by the resolver and the allocator before each write: the elector's term, which
  // ends at its renew deadline even while a renewal hangs (--leader-elect=false: always).
  bool IsLeader() const {
    return leading.load() && (!flags.leader_elect || elector->IsLeader());
  }
};

// --cert-mode=self: the certificate comes from the Secret the manager keeps; serving
// starts once its files hold a valid certificate. Returns the cert and key files to
// serve, or nullopt when a signal arrived while waiting.
std::optional<std::pair<std::string, std::string>> ServingFiles(Webhook& w,
                                                                 const kube::RestConfig& config) {
  const Flags& flags = w.flags;
  if (flags.cert_mode != "self") return std::make_pair(flags.tls_cert_file, flags.tls_key_file);
  std::string cert_namespace = flags.cert_namespace;
  if (cert_namespace.empty() && flags.kubeconfig.empty()) cert_namespace = config.namespace_name;
  if (cert_namespace.empty()) cert_namespace = flags.namespace_name;
  w.cert_manager = std::make_unique<certs::CertificateManager>(
      *w.client, w.clock,
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
          .rotate_before = *ParseDuration(flags.cert_rotate_before),
          .rollover_delay = *ParseDuration(flags.cert_rollover_delay)});
  for (;;) {
    auto reconciled = w.cert_manager->Reconcile();
    if (!reconciled) {
      spdlog::warn("event=certificate_reconcile_failed error=\"{}\"", reconciled.error());
    }
    if (w.cert_manager->HasValidCertificate()) break;
    timespec retry{.tv_sec = 5, .tv_nsec = 0};
    if (sigtimedwait(&w.signals, nullptr, &retry) > 0) return std::nullopt;
  }
  return std::make_pair(w.cert_manager->CertFile().string(), w.cert_manager->KeyFile().string());
}

void BuildMetrics(Webhook& w) {
  if (auto address = SplitAddress(w.flags.metrics_address)) {
    w.exposer = std::make_unique<prometheus::Exposer>(address->first + ":" +
                                                      std::to_string(address->second));
    w.exposer->RegisterCollectable(w.metrics.registry());
    // The bound port, also when the flag asked for any (port 0): tests read it back.
    for (int port : w.exposer->GetListeningPorts()) {
      spdlog::info("event=listening endpoint=metrics port={}", port);
    }
  }
  w.certificate->on_error = [&w](const std::string& error) {
    w.metrics.RecordCertificateReload(false);
    spdlog::error("event=certificate_reload_failed error=\"{}\"", error);
  };
  w.certificate->on_reload = [&w] {
    w.metrics.RecordCertificateReload(true);
    w.metrics.SetCertificateExpiry(w.certificate->NotAfter());
    spdlog::info("event=certificate_reloaded");
  };
  w.metrics.SetCertificateExpiry(w.certificate->NotAfter());
}

// The cache of the metallb.io objects, the view decisions read, and the resolver.
void BuildCluster(Webhook& w) {
  const std::string& ns = w.flags.namespace_name;
  w.cache = std::make_unique<webhook::MetallbCache>(*w.client, ns);
  w.view = std::make_unique<webhook::ClusterView>(*w.read_client, *w.cache, ns,
                                                  *ParseDelay(w.flags.read_through_timeout));
  if (w.flags.allocate_addresses) {
    char hostname[256] = {};
    gethostname(hostname, sizeof hostname - 1);
    w.events = std::make_unique<kube::EventRecorder>(
        *w.client, w.clock,
        kube::EventRecorderOptions{.component = "bgpcomm-webhook", .instance = hostname});
    w.allocator = std::make_unique<webhook::AllocatorController>(
        *w.client, *w.events, *w.metrics.registry(),
        webhook::AllocatorControllerOptions{.pool_namespace = ns, .lb_class = w.flags.lb_class});
    // The allocator's Service informer answers the view too: one watch of Services.
    w.view->CacheServices(&w.allocator->services(), webhook::ServiceObjectOf);
  } else {
    kube::InformerOptions service_options;
    service_options.reflector.decode = kube::DecodeAs([](const rapidjson::Value& object) {
      community::Diagnostics ignored;  // stored Services are the API server's to validate
      return objectjson::DecodeService(object, ignored);
    });
    w.services = std::make_unique<kube::Informer>(*w.client, kube::resources::kServices, "",
                                                  std::move(service_options));
    w.view->CacheServices(w.services.get());
  }
  w.resolver = std::make_unique<webhook::Resolver>(*w.client, *w.cache, w.view->cached(), ns,
                                                   w.options, w.metrics);
  w.cache->OnEvent([&w](const kube::Resource& resource, const kube::ObjectPtr& before,
                        const kube::ObjectPtr& after) {
    // The view changes by this one object; the resolver looks at the advertisements whose
    // resolution it may have changed.
    std::vector<std::string> affected = w.view->Apply(resource, before, after);
    if (!affected.empty()) w.resolver->Trigger(std::move(affected));
    // A pool or peer change can make a PATCH the webhook denied admissible again.
    if (resource == objectjson::kIPAddressPools || resource == objectjson::kBGPPeers)
      w.resolver->Trigger();
    auto snapshot = w.view->cached().Snapshot();
    const community::NamespaceView cached = snapshot->Objects();
    w.metrics.SetCachedObjects(
        resource.kind,
        static_cast<double>(resource == objectjson::kCommunities ? cached.communities.size()
                            : resource == objectjson::kBGPAdvertisements
                                ? cached.advertisements.size()
                            : resource == objectjson::kIPAddressPools ? cached.pools.size()
                                                                      : cached.peers.size()));
  });
}

// /readyz: caches synced and a valid certificate.
bool Ready(Webhook& w) {
  bool synced = w.cache->HasSynced();
  w.metrics.SetCacheSynced(synced);
  return synced && w.certificate->NotAfter() > std::chrono::system_clock::now() &&
         (!w.cert_manager || w.cert_manager->HasValidCertificate());
}

std::expected<void, std::string> BuildServers(Webhook& w) {
  webhook::ServerOptions server_options{
      .bind_address = w.flags.bind_address, .port = w.flags.port, .threads = w.flags.threads};
  server_options.connections.handshake_timeout = *ParseTimeout(w.flags.handshake_timeout);
  server_options.connections.request_timeout = *ParseTimeout(w.flags.request_timeout);
  server_options.connections.write_timeout = *ParseTimeout(w.flags.response_timeout);
  server_options.connections.idle_timeout = *ParseTimeout(w.flags.idle_timeout);
  server_options.connections.max_connections = w.flags.max_connections;
  w.server = std::make_unique<webhook::WebhookServer>(
      server_options, *w.certificate,
      [&w](webhook::Endpoint endpoint, const webhook::AdmissionRequest& request,
           bool may_block) {
        webhook::AdmissionResponse response =
            webhook::Decide(endpoint, request, *w.view, w.options, may_block);
        // 503 is Decide's answer when a read-through LIST failed.
        if (response.code == 503) w.metrics.RecordApiError("list");
        return response;
      },
      w.metrics, [&w] { return Ready(w); });
  auto port = w.server->Bind();
  if (!port) return std::unexpected(port.error());
  w.port = *port;

  if (auto address = SplitAddress(w.flags.health_address)) {
    // The same server as the admission port's, without TLS and with only the probes: its
    // deadlines and shedding keep slow clients from failing the kubelet's probes.
    webhook::ServerOptions health_options{
        .bind_address = address->first, .port = address->second, .threads = 1};
    health_options.connections = server_options.connections;
    health_options.listener = "health";
    w.health = std::make_unique<webhook::WebhookServer>(
        health_options, w.metrics, [&w] { return w.server->ready_to_serve() && Ready(w); });
    auto health_port = w.health->Bind();
    if (!health_port) {
      return std::unexpected("cannot bind health probes to " + w.flags.health_address + ": " +
                             health_port.error());
    }
    spdlog::info("event=listening endpoint=health port={}", *health_port);
  }
  return {};
}

void BuildElection(Webhook& w) {
  w.leading = !w.flags.leader_elect;
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  const std::string lease = w.flags.lease_name;
  w.elector = std::make_unique<kube::LeaderElector>(
      *w.client,
      kube::LeaderElectionConfig{
          .lease_namespace = w.flags.namespace_name,
          .lease_name = lease,
          .identity = std::string(hostname) + "_" + std::to_string(getpid()),
          .on_started_leading =
              [&w, lease] {
                w.leading = true;
                w.resolver->Trigger();
                spdlog::info("event=leading lease={}", lease);
              },
          .on_stopped_leading =
              [&w, lease] {
                w.leading = false;
                spdlog::info("event=stopped_leading lease={}", lease);
              }},
      w.clock, w.sleeper);
}

// Builds every part and binds every port, starting nothing; an error says what failed.
// nullptr without an error: a signal arrived while waiting for a certificate.
std::expected<std::unique_ptr<Webhook>, std::string> Build(const Flags& flags,
                                                           const sigset_t& signals) {
  auto w = std::make_unique<Webhook>();
  w->flags = flags;
  w->options = AdmissionOptionsFrom(flags);
  w->signals = signals;
  auto config =
      flags.kubeconfig.empty() ? kube::InClusterConfig() : kube::LoadKubeconfig(flags.kubeconfig);
  if (!config) return std::unexpected(config.error().ToString());
  auto client = kube::Client::New(*config);
  if (!client) return std::unexpected(client.error().ToString());
  w->client = std::move(*client);
  auto deadline = *ParseDelay(flags.read_through_timeout);
  auto read_client = kube::Client::New(
      *config, kube::ClientOptions{.connect_timeout = deadline, .request_timeout = deadline});
  if (!read_client) return std::unexpected(read_client.error().ToString());
  w->read_client = std::move(*read_client);

  auto files = ServingFiles(*w, *config);
  if (!files) return nullptr;
  auto certificate = certs::ServingCertificate::Load(files->first, files->second,
                                                     std::chrono::seconds(1), flags.client_ca_file);
  if (!certificate) return std::unexpected(certificate.error());
  w->certificate = std::move(*certificate);

  BuildMetrics(*w);
  BuildCluster(*w);
  if (auto built = BuildServers(*w); !built) return std::unexpected(built.error());
  BuildElection(*w);
  return w;
}

// Starts every thread, serves until SIGTERM/SIGINT has drained the server, then stops
// the rest in order.
int Serve(Webhook& w) {
  w.cache->Start();
  // The Service informer (the allocator's when it runs) starts with the caches: the view
  // reads it, and a new leader decides from a warm cache.
  if (w.services) w.services->Start();
  if (w.allocator) w.allocator->Start();
  // Every thread body runs under RunGuarded: what it throws is logged and it starts again.
  std::jthread health_thread;
  if (w.health) {
    health_thread = std::jthread([&w](std::stop_token stop) {
      kube::RunGuarded("health", stop, [&w](std::stop_token) { w.health->Serve(); });
    });
  }
  std::jthread cert_rotation;
  if (w.cert_manager) {
    cert_rotation = std::jthread([&w](std::stop_token stop) {
      kube::RunGuarded("certificates", stop, [&w](std::stop_token s) {
        w.cert_manager->Run(s, w.sleeper, *ParseDuration(w.flags.cert_check_interval));
      });
    });
  }
  std::jthread election;
  if (w.flags.leader_elect) {
    election = std::jthread([&w](std::stop_token stop) {
      kube::RunGuarded("leader_election", stop, [&w](std::stop_token s) { w.elector->Run(s); });
    });
  }
  if (w.flags.leader_elect) {
    // A leader's write gets only what is left of its term.
    w.resolver->BoundWrites([&w] { return w.elector->TimeLeft(); });
    if (w.allocator) w.allocator->BoundWrites([&w] { return w.elector->TimeLeft(); });
  }
  std::jthread resolving([&w](std::stop_token stop) {
    kube::RunGuarded("resolver", stop, [&w](std::stop_token s) {
      w.resolver->Run(s, [&w] { return w.IsLeader(); });
    });
  });
  std::jthread allocating;
  if (w.allocator) {
    allocating = std::jthread([&w](std::stop_token stop) {
      kube::RunGuarded("allocator", stop, [&w](std::stop_token s) {
        w.allocator->Run(s, [&w] { return w.IsLeader(); });
      });
    });
  }
  // Waits for SIGTERM/SIGINT; joined, never detached (it refers to `w`). When the server
  // stops for another reason, SIGTERM sent to this thread alone wakes it.
  std::atomic<bool> drained{false};
  std::jthread signal_waiter([&w, &drained] {
    int signal = 0;
    sigwait(&w.signals, &signal);
    if (drained.load()) return;
    // /readyz fails at once; the listener keeps serving for --shutdown-delay so that the
    // endpoint's removal reaches every API server before connections are refused. A
    // second signal ends the delay early.
    w.server->StopReady();
    auto delay = *ParseDelay(w.flags.shutdown_delay);
    spdlog::info("event=draining signal={} shutdown_delay_s={}", signal, delay.count());
    if (delay.count() > 0) {
      timespec wait{.tv_sec = static_cast<time_t>(delay.count()), .tv_nsec = 0};
      sigtimedwait(&w.signals, nullptr, &wait);
    }
    if (drained.load()) return;
    w.server->Shutdown();
  });

  spdlog::info("event=serving port={} namespace={} unresolved_aliases={} expand={}", w.port,
               w.flags.namespace_name, w.flags.unresolved, w.flags.expand);
  w.server->Serve();
  spdlog::info("event=drained");

  // Every writer has stopped before the elector releases the Lease (when its thread
  // ends), so that the next leader never writes beside this one.
  resolving.request_stop();
  allocating.request_stop();
  resolving.join();
  if (allocating.joinable()) allocating.join();
  if (w.allocator) w.allocator->Stop();
  cert_rotation.request_stop();
  election.request_stop();
  if (election.joinable()) election.join();
  if (w.health) w.health->Shutdown();
  w.cache->Stop();
  if (w.services) w.services->Stop();
  drained = true;
  pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  health_thread.request_stop();
  if (health_thread.joinable()) health_thread.join();
  return 0;
}

int Run(const Flags& flags) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  const sigset_t signals = BlockTerminationSignals();
  auto webhook = Build(flags, signals);
  if (!webhook) {
    spdlog::error("event=startup_failed error=\"{}\"", webhook.error());
    return 2;
  }
  if (*webhook == nullptr) return 0;  // stopped while waiting for a certificate
  return Serve(**webhook);
}

}  // namespace

int main(int argc, char** argv) {
  // A client that closes its connection while its answer is written (TLS or plain)
  // must cost that connection only: the write fails with EPIPE instead of a SIGPIPE
  // that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  Flags flags;
  CLI::App app{"bgpcomm-webhook: admission webhook for BGP community aliases (metallb.io)"};
  app.set_version_flag("--version", "bgpcomm-webhook " + std::string(bgpcomm::Version()),
                       "print the version (the chart's appVersion) and exit");
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
  app.add_option("--threads", flags.threads,
                 "workers that judge admission requests (connections are held by one I/O "
                 "thread of their own, so a slow client never holds a worker)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  auto timeout = CLI::Validator(
      [](std::string& text) {
        return ParseTimeout(text) ? std::string() : "expected a duration above 0 such as 3s";
      },
      "DURATION");
  app.add_option("--max-connections", flags.max_connections,
                 "HTTPS connections open at most; a new one beyond this closes the one idle "
                 "longest (else the slowest handshake or request; with every one busy, the "
                 "new one is refused)")
      ->check(CLI::Range(1, 65536))
      ->capture_default_str();
  app.add_option("--tls-handshake-timeout", flags.handshake_timeout,
                 "a TLS handshake must end this long after the accept (total, not per read; "
                 "keep it well below the webhook configuration's timeoutSeconds)")
      ->check(timeout)
      ->capture_default_str();
  app.add_option("--request-timeout", flags.request_timeout,
                 "a request's head and body must arrive within this from its first byte "
                 "(total, not per read; keep it well below timeoutSeconds)")
      ->check(timeout)
      ->capture_default_str();
  app.add_option("--response-timeout", flags.response_timeout,
                 "a response must be written within this (total)")
      ->check(timeout)
      ->capture_default_str();
  app.add_option("--idle-timeout", flags.idle_timeout,
                 "a keep-alive connection closes after this long without a request (also "
                 "from the handshake to the first request)")
      ->check(timeout)
      ->capture_default_str();
  app.add_option("--cert-rollover-delay", flags.cert_rollover_delay,
                 "self: least time between the steps of a rotation (new CA trusted, new "
                 "certificate served, old CA dropped); at least twice --cert-check-interval "
                 "and longer than the API servers take to load a changed caBundle")
      ->check(duration)
      ->capture_default_str();
  app.add_option("--read-through-timeout", flags.read_through_timeout,
                 "how long the LISTs read before a denial may take together; past it the "
                 "request is answered \"cannot be judged, try again\" (keep it below the "
                 "webhook configuration's timeoutSeconds)")
      ->check(CLI::Validator(
          [](std::string& text) {
            auto delay = ParseDelay(text);
            return delay && delay->count() > 0 ? std::string() : "expected a duration such as 3s";
          },
          "DURATION"))
      ->capture_default_str();
  app.add_option("--shutdown-delay", flags.shutdown_delay,
                 "on SIGTERM, fail /readyz at once but keep serving this long before the "
                 "listener closes (endpoint removal must reach the API servers first)")
      ->check(CLI::Validator(
          [](std::string& text) {
            return ParseDelay(text) ? std::string() : "expected a duration such as 5s";
          },
          "DURATION"))
      ->capture_default_str();
  app.add_option("--leader-elect", flags.leader_elect,
                 "elect one resolver through a Lease (false: always resolve)")
      ->capture_default_str();
  app.add_option("--leader-election-id", flags.lease_name, "name of the resolver's Lease")
      ->capture_default_str();
  app.add_option("--allocate-addresses", flags.allocate_addresses,
                 "the leader gives LoadBalancer Services their addresses from the "
                 "IPAddressPools (false where MetalLB's controller allocates)")
      ->capture_default_str();
  app.add_option("--lb-class", flags.lb_class,
                 "allocate only for Services of this spec.loadBalancerClass (empty: only "
                 "Services without one)");
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
  // Publishing can come one pass after the rotation point and the switch one pass after
  // the delay: both must fit before the certificate expires.
  if (flags.cert_mode == "self" &&
      *ParseDuration(flags.cert_rollover_delay) + 2 * *ParseDuration(flags.cert_check_interval) >=
          *ParseDuration(flags.cert_rotate_before)) {
    std::cerr << "--cert-rotate-before must be longer than --cert-rollover-delay plus twice "
                 "--cert-check-interval (a rotation must switch before the certificate "
                 "expires)\n";
    return 2;
  }
  if (flags.cert_mode == "self" &&
      *ParseDuration(flags.cert_rollover_delay) < 2 * *ParseDuration(flags.cert_check_interval)) {
    std::cerr << "--cert-rollover-delay must be at least twice --cert-check-interval (every "
                 "replica reads the Secret between two steps)\n";
    return 2;
  }
  try {
    return Run(flags);
  } catch (const std::exception& e) {
    spdlog::critical("event=crashed error=\"{}\"", e.what());
    return 1;
  }
}
