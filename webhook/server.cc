#include "webhook/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <vector>

namespace bgpcomm::webhook {
namespace {

constexpr Endpoint kAdmissionEndpoints[] = {
    Endpoint::kValidateCommunity, Endpoint::kValidateAdvertisement, Endpoint::kMutateAdvertisement,
    Endpoint::kValidatePool, Endpoint::kValidatePeer};

// The benchmark baseline: the same server, TLS and HTTP handling, no admission work.
constexpr char kNoopPath[] = "/noop";
constexpr char kNoopBody[] =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
    R"({"uid":"","allowed":true}})";

std::string Outcome(const AdmissionResponse& response) {
  if (response.allowed) return response.patch ? "patched" : "allowed";
  return response.code == kDeniedCode ? "denied" : "errored";
}

// Headers cpp-httplib adds to every request itself; they are not the client's.
bool IsSyntheticHeader(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
         name == "LOCAL_PORT";
}

std::string AddressText(const sockaddr_storage& address, int& port) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    port = ntohs(v6.sin6_port);
  }
  return text;
}

// The socket to shut once the response on this worker thread has been written.
thread_local int t_close_after_response = -1;

// Makes the connection that carried `request` end after its response. cpp-httplib 0.11
// keeps a connection open whatever the response says, and hands handlers no socket;
// the socket is found by its peer address (unique while this thread serves it) and shut
// by the logger, which runs once the response is written, so the unread rest of a
// refused request is never parsed as another request.
// The first open descriptor of this process for which `match(fd)` holds, or -1.
// cpp-httplib 0.11 exposes none of its sockets, so they are found in /proc/self/fd.
template <typename Match>
int FindDescriptor(Match&& match) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = 0;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    if (match(fd)) return fd;
  }
  return -1;
}

void CloseAfterResponse(const httplib::Request& request) {
  int fd = FindDescriptor([&](int fd) {
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return false;
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
    int port = 0;
    return AddressText(peer, port) == request.remote_addr && port == request.remote_port;
  });
  if (fd >= 0) t_close_after_response = fd;
}

// The listening socket cpp-httplib bound to `port` (it does not expose it), or -1.
int FindListener(int port) {
  return FindDescriptor([&](int fd) {
    int listening = 0;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) {
      return false;
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) return false;
    int local_port = 0;
    AddressText(local, local_port);
    return local_port == port;
  });
}

void Refuse(httplib::Response& out, int status, const std::string& message) {
  out.status = status;
  out.set_header("Connection", "close");
  out.set_content(message + "\n", "text/plain");
}

bool IsAdmissionPath(std::string_view path) {
  for (Endpoint endpoint : kAdmissionEndpoints) {
    if (EndpointPath(endpoint) == path) return true;
  }
  return false;
}

// An error on an admission path is still an AdmissionReview: the request's UID (when the
// body has one), allowed false, and a message that carries no internal detail.
void RefuseReview(httplib::Response& out, const std::string& body, int status,
                  std::string reason, std::string message) {
  auto request = DecodeReview(body);
  std::string uid = request ? request->uid : request.error().uid;
  out.status = status;
  out.set_content(EncodeReview(AdmissionResponse::Errored(std::move(uid), status,
                                                          std::move(reason), std::move(message))),
                  "application/json");
}

}  // namespace

WebhookServer::WebhookServer(ServerOptions options, certs::ServingCertificate& certificate,
                             AdmissionHandler handler, WebhookMetrics& metrics,
                             std::function<bool()> ready)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      metrics_(metrics),
      ready_(std::move(ready)),
      server_([&certificate](SSL_CTX& context) {
        certificate.Install(context);
        return true;
      }) {
  std::size_t threads = options_.threads;
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_.set_tcp_nodelay(true);
  server_.set_read_timeout(options_.read_timeout);
  server_.set_write_timeout(options_.write_timeout);
  server_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_.set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_.set_payload_max_length(options_.limits.max_body_bytes);
  Route();
}

void WebhookServer::Route() {
  server_.set_pre_routing_handler([this](const httplib::Request& request, httplib::Response& out) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& header : request.headers) {
      if (!IsSyntheticHeader(header.first)) headers.push_back(header);
    }
    if (!accepting_) {
      // Draining: this connection is not used again, so clients move to other replicas.
      CloseAfterResponse(request);
      out.set_header("Connection", "close");
    }
    if (auto rejection = CheckRequestHead(request.method, headers, options_.limits)) {
      CloseAfterResponse(request);
      metrics_.RecordRejectedHttp(rejection->reason);
      spdlog::info("event=http_rejected remote={} path={} status={} reason={}", request.remote_addr,
                   request.path, rejection->status, rejection->reason);
      Refuse(out, rejection->status, rejection->message);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_logger([](const httplib::Request&, const httplib::Response&) {
    if (t_close_after_response >= 0) {
      shutdown(t_close_after_response, SHUT_RDWR);
      t_close_after_response = -1;
    }
  });
  // cpp-httplib answers 400 itself when a body cannot be read (a client stalled past the
  // read timeout or sent less than it announced); that connection is not reused.
  server_.set_error_handler([this](const httplib::Request& request, httplib::Response& out) {
    if (out.status == 400 && out.body.empty()) {
      metrics_.RecordRejectedHttp("unreadable_body");
      CloseAfterResponse(request);
      Refuse(out, 400, "the request could not be read completely");
    }
  });
  server_.set_exception_handler(
      [this](const httplib::Request& request, httplib::Response& out, std::exception_ptr error) {
        std::string what = "unknown error";
        try {
          if (error) std::rethrow_exception(error);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        metrics_.RecordRejectedHttp("internal_error");
        spdlog::error("event=handler_failed path={} error=\"{}\"", request.path, what);
        // The exception's text stays in the log: a reply never shows internals.
        if (IsAdmissionPath(request.path)) {
          RefuseReview(out, request.body, 500, "InternalError",
                       "bgpcomm-webhook failed to judge this request; its log names the error");
        } else {
          Refuse(out, 500, "internal error");
        }
      });
  for (Endpoint endpoint : kAdmissionEndpoints) {
    server_.Post(std::string(EndpointPath(endpoint)),
                 [this, endpoint](const httplib::Request& request, httplib::Response& out) {
                   Admit(endpoint, request, out);
                 });
  }
  server_.Post(kNoopPath, [](const httplib::Request&, httplib::Response& out) {
    out.set_content(kNoopBody, "application/json");
  });
  server_.Get("/healthz", [](const httplib::Request&, httplib::Response& out) {
    out.set_content("ok\n", "text/plain");
  });
  server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& out) {
    bool ready = ready_to_serve() && ready_();
    out.status = ready ? 200 : 503;
    out.set_content(ready ? "ok\n" : "not ready\n", "text/plain");
  });
}

void WebhookServer::Admit(Endpoint endpoint, const httplib::Request& http, httplib::Response& out) {
  auto start = std::chrono::steady_clock::now();
  std::string path(EndpointPath(endpoint));
  if (!IsJsonContentType(http.get_header_value("Content-Type"))) {
    metrics_.RecordRejectedHttp("content_type");
    RefuseReview(out, http.body, 415, "UnsupportedMediaType",
                 "Content-Type must be application/json, got \"" +
                     http.get_header_value("Content-Type") + "\"");
    return;
  }
  auto request = DecodeReview(http.body);
  if (!request) {
    AdmissionResponse response =
        AdmissionResponse::Errored(request.error().uid, 400, "BadRequest",
                                   "malformed AdmissionReview: " + request.error().message);
    out.status = 400;
    out.set_content(EncodeReview(response), "application/json");
    metrics_.RecordAdmission(path, "bad_request", std::chrono::steady_clock::now() - start);
    spdlog::info("event=admission endpoint={} outcome=bad_request uid={} reason=\"{}\"", path,
                 request.error().uid, request.error().message);
    return;
  }
  AdmissionResponse response = handler_(endpoint, *request);
  out.set_content(EncodeReview(response), "application/json");
  std::string outcome = Outcome(response);
  auto latency = std::chrono::steady_clock::now() - start;
  metrics_.RecordAdmission(path, outcome, latency);
  if (!response.allowed) {
    spdlog::info(
        "event=admission endpoint={} outcome={} uid={} kind={} namespace={} name={} "
        "operation={} dry_run={} message=\"{}\"",
        path, outcome, request->uid, request->kind, request->namespace_name, request->name,
        request->operation, request->dry_run, response.message);
  } else {
    spdlog::debug(
        "event=admission endpoint={} outcome={} uid={} kind={} namespace={} name={} "
        "operation={} latency_us={}",
        path, outcome, request->uid, request->kind, request->namespace_name, request->name,
        request->operation, std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
  }
}

std::expected<int, std::string> WebhookServer::Bind() {
  if (!server_.is_valid()) return std::unexpected("the TLS server could not be set up");
  int port = options_.port;
  if (port == 0) {
    port = server_.bind_to_any_port(options_.bind_address);
    if (port < 0) return std::unexpected("cannot bind " + options_.bind_address);
  } else if (!server_.bind_to_port(options_.bind_address, port)) {
    return std::unexpected("cannot bind " + options_.bind_address + ":" + std::to_string(port));
  }
  listener_fd_ = FindListener(port);
  return port;
}

void WebhookServer::Serve() { server_.listen_after_bind(); }

void WebhookServer::Shutdown() {
  // Once only: after the first call cpp-httplib closes the listener, and its number may
  // belong to another descriptor by the next.
  if (!accepting_.exchange(false)) return;
  // cpp-httplib 0.11's stop() marks the listener invalid before closing it, and a worker
  // checks that mark before it reads a connection's first request: a connection accepted
  // (and TLS-handshaken) just before the stop was closed unanswered, an empty reply to a
  // request the client had sent. Shutting the socket down instead makes accept() fail,
  // which ends the accept loop (cpp-httplib closes the socket) while the mark stays
  // valid, so every accepted connection is served.
  if (listener_fd_ < 0 || shutdown(listener_fd_, SHUT_RDWR) != 0) server_.stop();
}

}  // namespace bgpcomm::webhook
