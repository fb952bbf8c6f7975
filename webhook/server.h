// The webhook's HTTPS server: the admission endpoints over TLS, with explicit limits,
// timeouts and thread pool, health endpoints, and a graceful drain.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <string>

#include "certs/serving_certificate.h"
#include "webhook/decide.h"
#include "webhook/metrics.h"
#include "webhook/request_guard.h"

namespace bgpcomm::webhook {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 9443;  // 0 picks a free port
  std::size_t threads = 8;
  RequestLimits limits;
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  // An idle keep-alive connection holds a worker until this passes, also after
  // Shutdown() (cpp-httplib 0.11 only checks for a stop between requests), so it bounds
  // how long a SIGTERM drain takes; busy clients reuse connections well within it.
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t keep_alive_max_requests = 100000;
};

// Answers one decoded request for one endpoint (Decide with the view and options bound).
using AdmissionHandler =
    std::function<AdmissionResponse(Endpoint endpoint, const AdmissionRequest& request)>;

class WebhookServer {
 public:
  // `ready` answers /readyz (caches synced and a valid certificate).
  WebhookServer(ServerOptions options, certs::ServingCertificate& certificate,
                AdmissionHandler handler, WebhookMetrics& metrics, std::function<bool()> ready);
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  std::expected<int, std::string> Bind();
  // Serves until Shutdown(); returns once every in-flight request has been answered.
  void Serve();
  // Stops accepting connections. Every connection already accepted is still served,
  // including one whose first request has not been read yet; from now on each response
  // closes its connection, and an idle keep-alive connection ends at the keep-alive
  // timeout, so Serve() returns within max(keep-alive timeout, read timeout).
  void Shutdown();
  // Makes /readyz fail from now on while everything is still served: the start of a
  // drain, so that endpoint removal reaches the API servers before connections are
  // refused (--shutdown-delay). Shutdown() implies it.
  void StopReady() { ready_to_serve_ = false; }
  // False once StopReady() or Shutdown() was called: /readyz fails.
  bool ready_to_serve() const { return ready_to_serve_ && accepting_; }
  // False once Shutdown() began.
  bool accepting() const { return accepting_; }

 private:
  void Route();
  void Admit(Endpoint endpoint, const httplib::Request& http, httplib::Response& out);

  ServerOptions options_;
  AdmissionHandler handler_;
  WebhookMetrics& metrics_;
  std::function<bool()> ready_;
  httplib::SSLServer server_;
  int listener_fd_ = -1;  // the bound listening socket (owned by server_), -1: unknown
  std::atomic<bool> accepting_{true};
  std::atomic<bool> ready_to_serve_{true};
};

}  // namespace bgpcomm::webhook
