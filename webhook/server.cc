#include "webhook/server.h"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <optional>
#include <unordered_map>

#include "webhook/http_request.h"

namespace bgpcomm::webhook {
namespace {

using asio::ip::tcp;

constexpr Endpoint kAdmissionEndpoints[] = {
    Endpoint::kValidateCommunity, Endpoint::kValidateAdvertisement, Endpoint::kMutateAdvertisement,
    Endpoint::kValidatePool,      Endpoint::kValidatePeer,          Endpoint::kValidateBfdProfile};

// The benchmark baseline: the same server, TLS and HTTP handling, no admission work.
constexpr char kNoopPath[] = "/noop";
constexpr char kNoopBody[] =
    R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":)"
    R"({"uid":"","allowed":true}})";

// How often the connection table is looked at for connections past their deadline:
// every deadline holds to within this.
constexpr std::chrono::milliseconds kSweepInterval{100};

std::string Outcome(const AdmissionResponse& response) {
  if (response.allowed) return response.patch ? "patched" : "allowed";
  return response.code == kDeniedCode ? "denied" : "errored";
}

bool IsAdmissionPath(std::string_view path) {
  for (Endpoint endpoint : kAdmissionEndpoints) {
    if (EndpointPath(endpoint) == path) return true;
  }
  return false;
}

HttpResponse Text(int status, std::string body, bool close = false) {
  return HttpResponse{
      .status = status, .content_type = "text/plain", .body = std::move(body), .close = close};
}

// An error on an admission path is still an AdmissionReview: the request's UID (when the
// body has one), allowed false, and a message that carries no internal detail.
HttpResponse RefuseReview(const std::string& body, int status, std::string reason,
                          std::string message) {
  auto request = DecodeReview(body);
  std::string uid = request ? request->uid : request.error().uid;
  return HttpResponse{.status = status,
                      .content_type = "application/json",
                      .body = EncodeReview(AdmissionResponse::Errored(
                          std::move(uid), status, std::move(reason), std::move(message)))};
}

auto Redirect(std::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

struct Connection {
  Connection(tcp::socket socket, asio::ssl::context& tls, std::uint64_t id)
      : stream(std::move(socket), tls), id(id) {
    std::error_code ec;
    auto peer = stream.lowest_layer().remote_endpoint(ec);
    if (!ec) remote = peer.address().to_string() + ":" + std::to_string(peer.port());
  }
  // Ends the connection at once: every operation pending on it fails.
  void Abort() {
    std::error_code ec;
    stream.lowest_layer().close(ec);
  }

  asio::ssl::stream<tcp::socket> stream;
  std::uint64_t id;
  std::string remote;
};

}  // namespace

// Every member but the workers is used on the I/O thread only (the one in Serve()); the
// workers run Route() and hand the response back to it (the I/O thread runs it itself
// when idle, see ServerOptions::judge_inline).
struct WebhookServer::Impl {
  // `certificate` null: plain HTTP, health endpoints only.
  Impl(WebhookServer& owner, ServerOptions options, certs::ServingCertificate* certificate,
       AdmissionHandler handler, WebhookMetrics& metrics, std::function<bool()> ready)
      : owner(owner),
        options(std::move(options)),
        handler(std::move(handler)),
        metrics(metrics),
        ready(std::move(ready)),
        use_tls(certificate != nullptr),
        workers(std::max<std::size_t>(this->options.threads, 1)),
        table(this->options.connections) {
    if (certificate == nullptr) return;
    SSL_CTX& context = *tls.native_handle();
    certificate->Install(context);
    // An idle connection keeps no read or write buffer (most of a TLS connection's memory).
    SSL_CTX_set_mode(&context, SSL_MODE_RELEASE_BUFFERS);
  }

  asio::awaitable<void> Accept();
  asio::awaitable<void> Sweep();
  asio::awaitable<void> Session(std::shared_ptr<Connection> connection);
  // Serves requests on `stream` (the TLS stream, or its TCP socket for plain HTTP).
  template <typename Stream>
  asio::awaitable<void> Exchange(Connection& connection, Stream& stream);
  asio::awaitable<void> Linger(Connection& connection);
  // Whether `request` is judged on the I/O thread (ServerOptions::judge_inline).
  bool JudgeInline(const HttpRequest& request);
  // Route() on the I/O thread; nothing when the handler would block.
  std::optional<HttpResponse> RouteInline(const HttpRequest& request);
  HttpResponse Route(const HttpRequest& request, bool may_block);
  HttpResponse Admit(Endpoint endpoint, const HttpRequest& request, bool may_block);

  void Enter(const Connection& connection, Phase phase) {
    table.Enter(connection.id, phase, ConnectionClock::now());
  }
  void Close(std::uint64_t id) {
    if (auto found = open.find(id); found != open.end()) found->second->Abort();
  }
  void Forget(std::uint64_t id) {
    table.Remove(id);
    open.erase(id);
    metrics.SetOpenConnections(options.listener, static_cast<double>(open.size()));
  }

  WebhookServer& owner;
  ServerOptions options;
  AdmissionHandler handler;
  WebhookMetrics& metrics;
  std::function<bool()> ready;
  bool use_tls;
  asio::io_context io;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  asio::thread_pool workers;
  ConnectionTable table;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> open;
  std::uint64_t next_id = 0;
  bool draining = false;
  std::chrono::steady_clock::time_point last_request{};
};

asio::awaitable<void> WebhookServer::Impl::Accept() {
  while (true) {
    std::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(Redirect(ec));
    if (draining || !acceptor.is_open()) co_return;
    if (ec) {
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      // Out of descriptors or memory: wait a little instead of spinning on the error.
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(Redirect(ec));
      continue;
    }
    if (table.full()) {
      auto victim = table.TakeVictim();
      if (!victim) {
        // Every open connection carries a request: the new one is closed unserved.
        metrics.RecordConnectionShed(options.listener, "new");
        spdlog::debug("event=connection_refused open={}", open.size());
        continue;  // `socket` closes
      }
      metrics.RecordConnectionShed(options.listener, PhaseName(victim->phase));
      spdlog::debug("event=connection_shed phase={} id={}", PhaseName(victim->phase), victim->id);
      Close(victim->id);
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<Connection>(std::move(socket), tls, ++next_id);
    table.Add(connection->id, ConnectionClock::now());
    open.emplace(connection->id, connection);
    metrics.SetOpenConnections(options.listener, static_cast<double>(open.size()));
    asio::co_spawn(io, Session(std::move(connection)), asio::detached);
  }
}

asio::awaitable<void> WebhookServer::Impl::Sweep() {
  asio::steady_timer timer(io);
  while (!draining || acceptor.is_open() || !open.empty()) {
    timer.expires_after(kSweepInterval);
    std::error_code ec;
    co_await timer.async_wait(Redirect(ec));
    for (const ConnectionEnd& end : table.TakeExpired(ConnectionClock::now())) {
      metrics.RecordConnectionTimedOut(options.listener, PhaseName(end.phase));
      spdlog::debug("event=connection_timed_out phase={} id={}", PhaseName(end.phase), end.id);
      Close(end.id);
    }
  }
}

asio::awaitable<void> WebhookServer::Impl::Session(std::shared_ptr<Connection> connection) {
  std::error_code ec;
  if (!use_tls) {
    co_await Exchange(*connection, connection->stream.next_layer());
  } else if (co_await connection->stream.async_handshake(asio::ssl::stream_base::server,
                                                         Redirect(ec));
             !ec) {
    co_await Exchange(*connection, connection->stream);
  } else {
    spdlog::debug("event=handshake_failed remote={} error=\"{}\"", connection->remote,
                  ec.message());
  }
  connection->Abort();
  Forget(connection->id);
}

template <typename Stream>
asio::awaitable<void> WebhookServer::Impl::Exchange(Connection& connection, Stream& stream) {
  RequestReader reader(options.limits);
  std::array<char, 16 * 1024> buffer;
  std::error_code ec;
  while (true) {
    auto status = reader.Feed({});
    Enter(connection, reader.started() ? Phase::kReading : Phase::kIdle);
    bool continued = false;
    while (status == RequestReader::Status::kNeedMore) {
      if (reader.expects_continue() && !continued) {
        continued = true;
        co_await asio::async_write(stream, asio::buffer(kContinueResponse), Redirect(ec));
        if (ec) co_return;
      }
      std::size_t n = co_await stream.async_read_some(asio::buffer(buffer), Redirect(ec));
      if (ec) co_return;
      bool started = reader.started();
      status = reader.Feed({buffer.data(), n});
      if (!started && reader.started()) Enter(connection, Phase::kReading);
    }
    HttpResponse response;
    if (status == RequestReader::Status::kRejected) {
      const Rejection& rejection = reader.rejection();
      metrics.RecordRejectedHttp(rejection.reason);
      spdlog::info("event=http_rejected remote={} status={} reason={}", connection.remote,
                   rejection.status, rejection.reason);
      // The rest of this connection is not read as requests: it ends after the answer.
      response = Text(rejection.status, rejection.message + "\n", true);
    } else {
      HttpRequest request = reader.TakeRequest();
      Enter(connection, Phase::kHandling);
      std::optional<HttpResponse> judged;
      if (JudgeInline(request)) judged = RouteInline(request);
      if (judged) {
        response = std::move(*judged);
      } else {
        response = co_await asio::co_spawn(
            workers,
            [this, &request]() -> asio::awaitable<HttpResponse> { co_return Route(request, true); },
            asio::use_awaitable);
      }
      // Draining: this connection is not used again, so clients move to other replicas.
      if (!request.KeepAlive() || !owner.accepting()) response.close = true;
    }
    Enter(connection, Phase::kWriting);
    std::string bytes = SerializeResponse(response);
    co_await asio::async_write(stream, asio::buffer(bytes), Redirect(ec));
    if (ec) co_return;
    if (response.close) {
      co_await Linger(connection);
      co_return;
    }
  }
}

// Ends the connection after a response that closed it: a FIN first, then whatever the
// client still sends is read and dropped until it closes too or the linger deadline
// passes. Closing with unread bytes would send a reset, which can destroy the response
// in the client's buffers before it is read.
asio::awaitable<void> WebhookServer::Impl::Linger(Connection& connection) {
  Enter(connection, Phase::kClosing);
  std::error_code ec;
  connection.stream.lowest_layer().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 4096> sink;
  while (!ec) {
    co_await connection.stream.next_layer().async_read_some(asio::buffer(sink), Redirect(ec));
  }
}

bool WebhookServer::Impl::JudgeInline(const HttpRequest& request) {
  const auto now = std::chrono::steady_clock::now();
  const bool idle = now - last_request >= options.inline_idle;
  last_request = now;
  return options.judge_inline && idle && request.body.size() <= options.inline_body_limit;
}

std::optional<HttpResponse> WebhookServer::Impl::RouteInline(const HttpRequest& request) {
  try {
    return Route(request, false);
  } catch (const WouldBlock&) {
    return std::nullopt;  // judged again on a worker
  }
}

HttpResponse WebhookServer::Impl::Route(const HttpRequest& request, bool may_block) {
  std::string what = "unknown error";
  try {
    if (request.method == "POST" && use_tls) {
      for (Endpoint endpoint : kAdmissionEndpoints) {
        if (EndpointPath(endpoint) == request.path) return Admit(endpoint, request, may_block);
      }
      if (request.path == kNoopPath) {
        return HttpResponse{.status = 200, .content_type = "application/json", .body = kNoopBody};
      }
    } else if (request.method == "GET") {
      if (request.path == "/healthz") return Text(200, "ok\n");
      if (request.path == "/readyz") {
        bool ok = owner.ready_to_serve() && ready();
        return Text(ok ? 200 : 503, ok ? "ok\n" : "not ready\n");
      }
    }
    return Text(404, "no endpoint " + request.method + " " + request.path + "\n");
  } catch (const WouldBlock& e) {
    if (!may_block) throw;  // RouteInline() sends the request to a worker
    what = e.what();        // a worker's handler may block: this one is wrong
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  metrics.RecordRejectedHttp("internal_error");
  spdlog::error("event=handler_failed path={} error=\"{}\"", request.path, what);
  // The exception's text stays in the log: a reply never shows internals.
  if (IsAdmissionPath(request.path)) {
    return RefuseReview(request.body, 500, "InternalError",
                        "bgpcomm-webhook failed to judge this request; its log names the error");
  }
  return Text(500, "internal error\n");
}

HttpResponse WebhookServer::Impl::Admit(Endpoint endpoint, const HttpRequest& http,
                                        bool may_block) {
  auto start = std::chrono::steady_clock::now();
  std::string path(EndpointPath(endpoint));
  std::string content_type = http.Header("Content-Type");
  if (!IsJsonContentType(content_type)) {
    metrics.RecordRejectedHttp("content_type");
    return RefuseReview(http.body, 415, "UnsupportedMediaType",
                        "Content-Type must be application/json, got \"" + content_type + "\"");
  }
  auto request = DecodeReview(http.body);
  if (!request) {
    AdmissionResponse response =
        AdmissionResponse::Errored(request.error().uid, 400, "BadRequest",
                                   "malformed AdmissionReview: " + request.error().message);
    metrics.RecordAdmission(path, "bad_request", std::chrono::steady_clock::now() - start);
    spdlog::info("event=admission endpoint={} outcome=bad_request uid={} reason=\"{}\"", path,
                 request.error().uid, request.error().message);
    return HttpResponse{
        .status = 400, .content_type = "application/json", .body = EncodeReview(response)};
  }
  AdmissionResponse response = handler(endpoint, *request, may_block);
  std::string outcome = Outcome(response);
  auto latency = std::chrono::steady_clock::now() - start;
  metrics.RecordAdmission(path, outcome, latency);
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
  return HttpResponse{
      .status = 200, .content_type = "application/json", .body = EncodeReview(response)};
}

WebhookServer::WebhookServer(ServerOptions options, certs::ServingCertificate& certificate,
                             AdmissionHandler handler, WebhookMetrics& metrics,
                             std::function<bool()> ready)
    : impl_(std::make_unique<Impl>(*this, std::move(options), &certificate, std::move(handler),
                                   metrics, std::move(ready))) {}

WebhookServer::WebhookServer(ServerOptions options, WebhookMetrics& metrics,
                             std::function<bool()> ready)
    : impl_(std::make_unique<Impl>(*this, std::move(options), nullptr, nullptr, metrics,
                                   std::move(ready))) {}

WebhookServer::~WebhookServer() {
  impl_->workers.stop();
  impl_->workers.join();
}

std::expected<int, std::string> WebhookServer::Bind() {
  const std::string& address_text = impl_->options.bind_address;
  std::string where = address_text + ":" + std::to_string(impl_->options.port);
  std::error_code ec;
  auto address = asio::ip::make_address(address_text, ec);
  if (ec) return std::unexpected("cannot bind " + where + ": not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->options.port));
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor.close();
    return std::unexpected("cannot bind " + where + ": " + ec.message());
  }
  return acceptor.local_endpoint().port();
}

void WebhookServer::Serve() {
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  asio::co_spawn(impl_->io, impl_->Sweep(), asio::detached);
  impl_->io.run();
}

void WebhookServer::Shutdown() {
  if (!accepting_.exchange(false)) return;
  // The listener closes on the I/O thread; connections already accepted go on, each to
  // its next response (which closes it) or its deadline.
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->draining = true;
    std::error_code ec;
    impl->acceptor.close(ec);
  });
}

}  // namespace bgpcomm::webhook
