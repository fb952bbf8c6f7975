// The webhook's HTTPS server: the admission endpoints over TLS, health endpoints, and a
// graceful drain. Event-driven (Asio): one I/O thread holds every connection, so a
// connection that is slow or idle costs memory and a slot, never a worker; the workers
// (`threads`) run handlers, but for a request the I/O thread can judge at once when idle
// (ServerOptions::judge_inline). Each phase of a connection has a total deadline
// (ConnectionLimits: handshake, request, response, keep-alive idle), and at
// `max_connections` a new connection sheds the oldest idle one first.
#pragma once

#include <atomic>
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <string>

#include "certs/serving_certificate.h"
#include "webhook/connection_policy.h"
#include "webhook/decide.h"
#include "webhook/metrics.h"
#include "webhook/request_guard.h"

namespace bgpcomm::webhook {

struct ServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 9443;  // 0 picks a free port
  // Workers that run admission handlers (I/O runs on one thread of its own).
  std::size_t threads = 8;
  RequestLimits limits;
  ConnectionLimits connections;
  // Names this server's connections in the metrics ("https", "health").
  std::string listener = "https";
  // A request that arrives after the server was idle for `inline_idle` (and whose body is
  // at most `inline_body_limit`) is judged on the I/O thread when that needs no waiting:
  // nothing else waits for the thread then, and a worker would cost two thread wake-ups
  // on the request's path. Under load, requests go to the workers, which judge them
  // beside the I/O thread's TLS work. False: every request goes to a worker.
  bool judge_inline = true;
  std::chrono::microseconds inline_idle{500};
  std::size_t inline_body_limit = 64 * 1024;
};

// Answers one decoded request for one endpoint (Decide with the view and options bound).
// With `may_block` false it is on the I/O thread and must not wait (on the API server,
// a lock held long, a slow computation): it throws WouldBlock instead, and is called
// again on a worker with `may_block` true.
using AdmissionHandler = std::function<AdmissionResponse(
    Endpoint endpoint, const AdmissionRequest& request, bool may_block)>;

class WebhookServer {
 public:
  // The admission port: TLS with `certificate`, every endpoint. `ready` answers /readyz
  // (caches synced and a valid certificate).
  WebhookServer(ServerOptions options, certs::ServingCertificate& certificate,
                AdmissionHandler handler, WebhookMetrics& metrics, std::function<bool()> ready);
  // The health probe port: plain HTTP (the kubelet's probes), /healthz and /readyz only,
  // with the same deadlines and shedding, so that slow clients cannot fail the probes.
  WebhookServer(ServerOptions options, WebhookMetrics& metrics, std::function<bool()> ready);
  ~WebhookServer();
  WebhookServer(const WebhookServer&) = delete;
  WebhookServer& operator=(const WebhookServer&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  std::expected<int, std::string> Bind();
  // Serves until Shutdown(); returns once every in-flight request has been answered.
  void Serve();
  // Stops accepting connections. Every connection already accepted is still served,
  // including one whose first request has not been read yet; from now on each response
  // closes its connection, and every connection still ends at its phase's deadline, so
  // Serve() returns within the longest deadline plus a handler's time.
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
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> accepting_{true};
  std::atomic<bool> ready_to_serve_{true};
};

}  // namespace bgpcomm::webhook
