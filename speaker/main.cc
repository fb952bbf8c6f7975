// bgpcomm-speaker: announces LoadBalancer service routes with their resolved communities.
#include <httplib.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <thread>

#include "community/value.h"
#include "kube/clock.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/guarded.h"
#include "speaker/kube_source.h"
#include "speaker/restart_marker.h"
#include "speaker/speaker.h"
#include "speaker/status_publisher.h"
#include "version/version.h"

namespace {

constexpr int kExitUsage = 2;

// ":8080" -> "0.0.0.0:8080" (civetweb and httplib want a host).
std::pair<std::string, int> SplitBind(const std::string& bind) {
  auto colon = bind.rfind(':');
  if (colon == std::string::npos) return {"", -1};
  std::string host = bind.substr(0, colon);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    int port = std::stoi(bind.substr(colon + 1));
    if (port < 0 || port > 65535) return {"", -1};
    return {host, port};
  } catch (...) {
    return {"", -1};
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bgpcomm::speaker;
  CLI::App app{"bgpcomm-speaker: a BGP speaker announcing LoadBalancer service routes"};
  app.set_version_flag("--version", "bgpcomm-speaker " + std::string(bgpcomm::Version()),
                       "print the version (the chart's appVersion) and exit");
  std::vector<std::string> objects;
  const char* env_node = std::getenv("NODE_NAME");
  std::string node_name = env_node ? env_node : "";
  std::string kubeconfig, namespace_name = "metallb-system";
  std::string metrics_bind = ":7472", health_bind = ":7473", log_level = "info";
  std::string state_dir;
  int restart_time = 120;
  const char* env_pod = std::getenv("POD_NAME");
  const char* env_pod_uid = std::getenv("POD_UID");
  std::string pod_name = env_pod ? env_pod : "", pod_uid = env_pod_uid ? env_pod_uid : "";
  double status_interval = 5, status_prefixes_interval = 30;
  bool status_objects = true, service_bgp_status = false;
  app.add_option(
      "--objects", objects,
      "read the objects from these YAML/JSON files or folders instead of the API server");
  app.add_option("--node-name", node_name, "this node's name (default $NODE_NAME)");
  app.add_option("--kubeconfig", kubeconfig,
                 "kubeconfig file; in-cluster configuration when empty (Kubernetes mode)");
  app.add_option("--namespace", namespace_name, "namespace of the metallb.io objects");
  app.add_option("--metrics-bind-address", metrics_bind, "Prometheus /metrics address; 0 disables");
  app.add_option("--health-probe-bind-address", health_bind,
                 "/healthz and /readyz address; 0 disables");
  app.add_option("--state-dir", state_dir,
                 "directory that outlives the process (a hostPath under /run): its marker file "
                 "tells a restarted speaker to set the graceful restart Restart State bit");
  app.add_option("--graceful-restart-time", restart_time,
                 "seconds a peer keeps our routes after we went away (BGPPeers with "
                 "enableGracefulRestart)")
      ->check(CLI::Range(1, 4095));
  app.add_option("--pod-name", pod_name,
                 "this speaker's Pod (default $POD_NAME): owner of its status objects");
  app.add_option("--pod-uid", pod_uid, "that Pod's UID (default $POD_UID)");
  app.add_option("--status-objects", status_objects,
                 "write BGPSessionState and ConfigurationState objects (Kubernetes mode)")
      ->capture_default_str();
  app.add_option("--status-interval", status_interval,
                 "seconds between two writes of one status object when a session's state "
                 "or the configuration result changes")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--status-prefixes-interval", status_prefixes_interval,
                 "seconds between two writes of one status object when only the prefixes "
                 "sent change")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--service-bgp-status", service_bgp_status,
                 "also write MetalLB's ServiceBGPStatus, one object per node and Service "
                 "announced")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  auto logger = spdlog::stderr_logger_mt("bgpcomm-speaker");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::flush_on(spdlog::level::trace);

  if (node_name.empty()) {
    std::cerr << "bgpcomm-speaker: --node-name (or $NODE_NAME) is required\n";
    return kExitUsage;
  }

  try {
    auto registry = std::make_shared<prometheus::Registry>();
    std::unique_ptr<prometheus::Exposer> exposer;
    if (metrics_bind != "0") {
      auto [host, port] = SplitBind(metrics_bind);
      if (port < 0) {
        std::cerr << "bgpcomm-speaker: --metrics-bind-address must be HOST:PORT or :PORT\n";
        return kExitUsage;
      }
      exposer = std::make_unique<prometheus::Exposer>(host + ":" + std::to_string(port));
      exposer->RegisterCollectable(registry);
      // The bound port, also when the flag asked for any (port 0): tests read it back.
      for (int bound : exposer->GetListeningPorts()) {
        spdlog::info("event=listening endpoint=metrics port={}", bound);
      }
    }
    SpeakerMetrics metrics(registry.get());

    bool restarted = false;
    std::optional<RestartMarker> marker;
    if (!state_dir.empty()) {
      auto begun = RestartMarker::Begin(state_dir, restarted);
      if (!begun) {
        spdlog::error("event=startup_failed error={}", bgpcomm::community::Quote(begun.error()));
        return 1;
      }
      marker = std::move(*begun);
      spdlog::info("event=state_marker path={} restarted={}", marker->path(), restarted);
    }
    asio::io_context io;
    Speaker speaker(io,
                    SpeakerOptions{.objects = objects,
                                   .node_name = node_name,
                                   .restart_time_seconds = static_cast<std::uint16_t>(restart_time),
                                   .restarted = restarted},
                    metrics);

    // Kubernetes mode (no --objects): the API client, the Event recorder and the informers.
    std::unique_ptr<bgpcomm::kube::Client> client;
    bgpcomm::kube::RealClock clock;
    std::unique_ptr<bgpcomm::kube::EventRecorder> recorder;
    std::unique_ptr<KubeSource> source;
    std::unique_ptr<bgpcomm::kube::StatusWriter> status_writer;
    std::unique_ptr<StatusPublisher> status;
    if (objects.empty()) {
      auto config = kubeconfig.empty() ? bgpcomm::kube::InClusterConfig()
                                       : bgpcomm::kube::LoadKubeconfig(kubeconfig);
      if (!config) {
        spdlog::error("event=startup_failed error={}",
                      bgpcomm::community::Quote(config.error().ToString()));
        return kExitUsage;
      }
      auto made = bgpcomm::kube::Client::New(*config, {.user_agent = "bgpcomm-speaker"});
      if (!made) {
        spdlog::error("event=startup_failed error={}",
                      bgpcomm::community::Quote(made.error().ToString()));
        return kExitUsage;
      }
      client = std::move(*made);
      recorder = std::make_unique<bgpcomm::kube::EventRecorder>(
          *client, clock,
          bgpcomm::kube::EventRecorderOptions{.component = "bgpcomm-speaker",
                                              .instance = node_name});
      if (status_objects) {
        nlohmann::json owner;
        if (!pod_name.empty() && !pod_uid.empty()) {
          owner = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_name},
                   {"uid", pod_uid}};
        }
        status_writer = std::make_unique<bgpcomm::kube::StatusWriter>(
            *client, bgpcomm::kube::StatusWriterOptions{.owner = owner});
        auto ms = [](double seconds) {
          return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
        };
        status = std::make_unique<StatusPublisher>(
            *status_writer,
            StatusPublisherOptions{.namespace_name = namespace_name,
                                   .node_name = node_name,
                                   .state_interval = ms(status_interval),
                                   .prefixes_interval = ms(status_prefixes_interval),
                                   .service_status = service_bgp_status});
        status->Adopt();
        speaker.SetStatusSink(status.get());
        status_writer->Start();
      }
      source = std::make_unique<KubeSource>(
          *client, *recorder, speaker, io,
          KubeSourceOptions{.namespace_name = namespace_name, .node_name = node_name});
    }

    httplib::Server health;
    std::jthread health_thread;
    if (health_bind != "0") {
      auto [host, port] = SplitBind(health_bind);
      if (port < 0) {
        std::cerr << "bgpcomm-speaker: --health-probe-bind-address must be HOST:PORT or :PORT\n";
        return kExitUsage;
      }
      health.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("ok\n", "text/plain");
      });
      health.Get("/readyz", [&speaker](const httplib::Request&, httplib::Response& res) {
        res.status = speaker.ready() ? 200 : 503;
        res.set_content(speaker.ready() ? "ok\n" : "objects not applied yet\n", "text/plain");
      });
      int bound = port == 0 ? health.bind_to_any_port(host.c_str())
                            : (health.bind_to_port(host.c_str(), port) ? port : -1);
      if (bound < 0) {
        std::cerr << "bgpcomm-speaker: cannot listen on " << health_bind << "\n";
        return 1;
      }
      spdlog::info("event=listening endpoint=health port={}", bound);
      health_thread = std::jthread([&health](std::stop_token stop) {
        bgpcomm::kube::RunGuarded("health", stop,
                                  [&health](std::stop_token) { health.listen_after_bind(); });
      });
    }

    if (auto started = speaker.Start(); !started) {
      spdlog::error("event=objects_unreadable error={}",
                    bgpcomm::community::Quote(started.error()));
      health.stop();
      return 1;
    }
    asio::signal_set signals(io, SIGINT, SIGTERM);
    asio::steady_timer shutdown(io);
    signals.async_wait([&](std::error_code, int signal) {
      spdlog::info("event=shutdown signal={}", signal);
      // A stop is taken for a restart (a rolling update): peers with graceful restart keep
      // our routes until the next speaker is up or the restart time ends.
      speaker.Stop(/*for_restart=*/true);
      // The Cease messages drain off the closed sessions (each at most the linger time).
      shutdown.expires_after(SendLimits{}.notification_linger + std::chrono::milliseconds(100));
      shutdown.async_wait([&](std::error_code) { io.stop(); });
    });
    if (source) source->Start();
    spdlog::info("event=started node={} mode={} namespace={}", node_name,
                 source ? "kubernetes" : "objects", namespace_name);
    // A handler that throws is reported and the loop goes on (asio allows run() again).
    for (;;) {
      try {
        io.run();
        break;
      } catch (const std::exception& e) {
        spdlog::error("event=thread_failed thread=io error={} action=continuing",
                      bgpcomm::community::Quote(e.what()));
      }
    }
    if (source) source->Stop();
    speaker.SetStatusSink(nullptr);
    if (status_writer) status_writer->Stop();
    // The marker stays when peers hold our routes: the next start then claims the restart.
    if (marker && !speaker.graceful_restart_enabled()) marker->Remove();
    health.stop();
    if (health_thread.joinable()) {
      health_thread.request_stop();
      health_thread.join();
    }
  } catch (const std::exception& e) {
    spdlog::error("event=fatal error={}", bgpcomm::community::Quote(e.what()));
    return 1;
  }
  return 0;
}
