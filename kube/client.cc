#include "kube/client.h"

#include <algorithm>

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <poll.h>

#include <atomic>
#include <charconv>
#include <csignal>
#include <mutex>

namespace bgpcomm::kube {
namespace {

constexpr std::size_t kMaxWatchLine = 32 << 20;
constexpr std::size_t kMaxErrorBody = 64 << 10;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::vector<X509Ptr> ParseCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    out.emplace_back(cert);
  ERR_clear_error();
  return out;
}

struct ServerUrl {
  bool https = true;
  std::string host;
  int port = 443;
  std::string prefix;  // path prefix without trailing '/'
};

std::expected<ServerUrl, Error> ParseServer(const std::string& server) {
  ServerUrl url;
  std::string_view rest = server;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    url.https = false;
    url.port = 80;
  } else {
    return std::unexpected(LocalError("server \"" + server + "\": scheme must be https or http"));
  }
  std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.size() < rest.size()) url.prefix = std::string(rest.substr(authority.size()));
  while (!url.prefix.empty() && url.prefix.back() == '/') url.prefix.pop_back();
  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return std::unexpected(LocalError("server \"" + server + "\": unterminated IPv6 address"));
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return std::unexpected(LocalError("server \"" + server + "\": bad authority"));
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return std::unexpected(LocalError("server \"" + server + "\": no host"));
  if (!port_text.empty()) {
    int port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535)
      return std::unexpected(LocalError("server \"" + server + "\": bad port"));
    url.port = port;
  }
  return url;
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// The error for a non-2xx answer, from the Status object the apiserver sends.
Error StatusError(int status, const std::string& body) {
  Error error{status, "", ""};
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    if (auto it = json.find("reason"); it != json.end() && it->is_string()) error.reason = *it;
    if (auto it = json.find("message"); it != json.end() && it->is_string()) error.message = *it;
  }
  if (error.message.empty()) {
    error.message = body.substr(0, 256);
    if (error.message.empty()) error.message = "no message";
  }
  return error;
}

std::string StringMember(const rapidjson::Value& object, const char* key) {
  if (!object.IsObject()) return {};
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

// Identity fields of an object's metadata into `out`.
void ReadIdentity(const rapidjson::Value& object, Object& out) {
  if (!object.IsObject()) return;
  auto meta = object.FindMember("metadata");
  if (meta == object.MemberEnd()) return;
  out.name = StringMember(meta->value, "name");
  out.namespace_name = StringMember(meta->value, "namespace");
  out.uid = StringMember(meta->value, "uid");
  out.resource_version = StringMember(meta->value, "resourceVersion");
}

// One line of a watch stream, parsed into `doc` (which the event's `json` points into).
std::expected<WatchEvent, Error> DecodeWatchLine(std::string_view line, rapidjson::Document& doc) {
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject())
    return std::unexpected(
        LocalError("watch: undecodable event: " + std::string(line.substr(0, 128))));
  std::string type = StringMember(doc, "type");
  auto object_it = doc.FindMember("object");
  if (object_it == doc.MemberEnd() || !object_it->value.IsObject())
    return std::unexpected(LocalError("watch: event " + type + " has no object"));
  const rapidjson::Value& object = object_it->value;
  WatchEvent event;
  if (type == "ADDED")
    event.type = WatchEventType::kAdded;
  else if (type == "MODIFIED")
    event.type = WatchEventType::kModified;
  else if (type == "DELETED")
    event.type = WatchEventType::kDeleted;
  else if (type == "BOOKMARK")
    event.type = WatchEventType::kBookmark;
  else if (type == "ERROR")
    event.type = WatchEventType::kError;
  else
    return std::unexpected(LocalError("watch: unknown event type \"" + type + "\""));

  if (event.type == WatchEventType::kError) {
    auto code = object.FindMember("code");
    event.error.http_status =
        code != object.MemberEnd() && code->value.IsInt() ? code->value.GetInt() : 500;
    event.error.reason = StringMember(object, "reason");
    event.error.message = StringMember(object, "message");
  }
  ReadIdentity(object, event.object);
  event.json = &object;
  return event;
}

// The query of one LIST page.
std::string ListQuery(const ListOptions& options, const std::string& continue_token);

void AppendParam(std::string& query, std::string_view key, std::string_view value) {
  query += query.empty() ? '?' : '&';
  query += key;
  query += '=';
  query += QueryEscape(value);
}

void AppendWriteOptions(std::string& query, const WriteOptions& options) {
  if (options.dry_run) AppendParam(query, "dryRun", "All");
  if (!options.field_manager.empty()) AppendParam(query, "fieldManager", options.field_manager);
  if (options.force) AppendParam(query, "force", "true");
}

std::string ListQuery(const ListOptions& options, const std::string& continue_token) {
  std::string query;
  if (options.page_size > 0) AppendParam(query, "limit", std::to_string(options.page_size));
  if (!continue_token.empty()) AppendParam(query, "continue", continue_token);
  // A continued page carries the version of the first (the API server refuses both).
  if (continue_token.empty() && !options.resource_version.empty())
    AppendParam(query, "resourceVersion", options.resource_version);
  if (!options.label_selector.empty()) AppendParam(query, "labelSelector", options.label_selector);
  if (!options.field_selector.empty()) AppendParam(query, "fieldSelector", options.field_selector);
  return query;
}

}  // namespace

std::string_view ToString(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::string QueryEscape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

Object ToObject(const rapidjson::Value& object, const Decoder& decode) {
  Object out;
  ReadIdentity(object, out);
  if (decode) out.decoded = decode(object);
  return out;
}

Decoder KeepJsonText() {
  return [](const rapidjson::Value& object) -> std::shared_ptr<const void> {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    object.Accept(writer);
    return std::make_shared<const std::string>(buffer.GetString(), buffer.GetSize());
  };
}

namespace {
thread_local std::optional<std::chrono::steady_clock::time_point> call_deadline;
}  // namespace

CallDeadline::CallDeadline(std::chrono::steady_clock::time_point deadline)
    : previous_(call_deadline) {
  if (!call_deadline || deadline < *call_deadline) call_deadline = deadline;
}
CallDeadline::~CallDeadline() { call_deadline = previous_; }
std::optional<std::chrono::steady_clock::time_point> CallDeadline::Current() {
  return call_deadline;
}

struct Client::Impl {
  RestConfig config;
  ClientOptions options;
  ServerUrl url;
  RealClock real_clock;
  std::unique_ptr<TokenSource> tokens;
  // The CA certificates, parsed once. Each TLS connection gets a store of its own filled
  // from them: cpp-httplib adds the system's default verify paths to a connection's store
  // when it connects (SSL_CTX_set_default_verify_paths), which changes the store without a
  // lock, so one store shared by connections opened on several threads at once was
  // corrupted (a double free seen at the webhook's start, when its informers list at once).
  std::vector<X509Ptr> ca_certs;
  X509Ptr client_cert;
  PkeyPtr client_key;
  std::atomic<std::uint64_t> connections_opened{0};

  // Idle kept-alive connections, the most recently used last.
  struct Idle {
    std::unique_ptr<httplib::ClientImpl> conn;
    std::chrono::steady_clock::time_point since;
  };
  std::mutex pool_mutex;
  std::vector<Idle> idle;

  struct Response {
    int status = 0;
    std::string body;
  };

  // A client for one connection (opened by its first send), `keep_alive` or not.
  std::unique_ptr<httplib::ClientImpl> NewConnection(bool keep_alive) {
    std::unique_ptr<httplib::ClientImpl> conn;
    if (url.https) {
      auto ssl = client_cert ? std::make_unique<httplib::SSLClient>(
                                   url.host, url.port, client_cert.get(), client_key.get())
                             : std::make_unique<httplib::SSLClient>(url.host, url.port);
      if (!ca_certs.empty()) {
        X509_STORE* store = X509_STORE_new();  // the connection's SSL context takes it
        for (const auto& cert : ca_certs) X509_STORE_add_cert(store, cert.get());
        ssl->set_ca_cert_store(store);
      }
      ssl->enable_server_certificate_verification(!config.insecure_skip_tls_verify);
      conn = std::move(ssl);
    } else {
      conn = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    conn->set_keep_alive(keep_alive);
    conn->set_url_encode(false);
    conn->set_tcp_nodelay(true);
    // Called for each socket the client creates: counts the connections opened.
    conn->set_socket_options([this](socket_t) { ++connections_opened; });
    return conn;
  }

  // The connect, read and write timeouts of the next send, cut to what is left of the
  // thread's CallDeadline.
  // Returns the shorter of the read and write timeouts set.
  Duration SetTimeouts(httplib::ClientImpl& conn, Duration read_timeout) const {
    Duration connect_timeout = options.connect_timeout;
    Duration write_timeout = options.request_timeout;
    if (call_deadline) {
      // A CallDeadline scope: no phase of the call may outlast it.
      const Duration left = *call_deadline - std::chrono::steady_clock::now();
      const Duration floor = std::chrono::milliseconds(1);
      connect_timeout = std::clamp(left, floor, connect_timeout);
      read_timeout = std::clamp(left, floor, read_timeout);
      write_timeout = std::clamp(left, floor, write_timeout);
    }
    conn.set_connection_timeout(connect_timeout);
    conn.set_read_timeout(read_timeout);
    conn.set_write_timeout(write_timeout);
    return std::min(read_timeout, write_timeout);
  }

  // A connection of its own, never pooled: what a WATCH streams on.
  std::unique_ptr<httplib::ClientImpl> Connect(Duration read_timeout) {
    auto conn = NewConnection(/*keep_alive=*/false);
    SetTimeouts(*conn, read_timeout);
    return conn;
  }

  // An idle pooled connection (`reused`) or a new one. An idle connection that has
  // anything to read was closed by the server (a TLS close_notify, or EOF): it is dropped,
  // as is one idle for longer than `idle_timeout`.
  std::unique_ptr<httplib::ClientImpl> Acquire(bool& reused) {
    reused = false;
    std::vector<std::unique_ptr<httplib::ClientImpl>> stale;  // closed outside the lock
    std::unique_ptr<httplib::ClientImpl> conn;
    {
      std::lock_guard lock(pool_mutex);
      const auto now = std::chrono::steady_clock::now();
      while (!idle.empty()) {
        Idle entry = std::move(idle.back());
        idle.pop_back();
        if (now - entry.since < options.idle_timeout && entry.conn->is_socket_open() &&
            !Readable(entry.conn->socket())) {
          conn = std::move(entry.conn);
          break;
        }
        stale.push_back(std::move(entry.conn));
      }
    }
    if (conn) {
      reused = true;
      return conn;
    }
    return NewConnection(/*keep_alive=*/options.max_idle_connections > 0);
  }

  // Back to the pool after a complete exchange, if the server kept it open.
  void Release(std::unique_ptr<httplib::ClientImpl> conn) {
    if (!conn->is_socket_open()) return;
    std::lock_guard lock(pool_mutex);
    // A full pool: `conn` closes when this returns (after the lock is released).
    if (idle.size() >= options.max_idle_connections) return;
    idle.push_back({std::move(conn), std::chrono::steady_clock::now()});
  }

  static bool Readable(socket_t sock) {
    pollfd fd{.fd = sock, .events = POLLIN, .revents = 0};
    return ::poll(&fd, 1, 0) != 0;
  }

  std::expected<httplib::Headers, Error> Headers() {
    auto token = tokens->Token();
    if (!token) return std::unexpected(token.error());
    httplib::Headers headers{{"Accept", "application/json"}, {"User-Agent", options.user_agent}};
    if (!token->empty()) headers.emplace("Authorization", "Bearer " + *token);
    return headers;
  }

  // One HTTP exchange on a pooled connection; a 401 re-reads a rotating token and tries
  // once more. A kept-alive connection the server closed under the request is given one
  // more try on a new connection when that cannot do anything twice: the request is a
  // GET, or it was not sent whole (a write error); a timeout is not retried.
  std::expected<Response, Error> Do(const std::string& method, const std::string& path,
                                    std::string_view body = {},
                                    std::string_view content_type = {}) {
    bool token_retried = false;
    bool connection_retried = false;
    for (;;) {
      if (call_deadline && std::chrono::steady_clock::now() >= *call_deadline)
        return std::unexpected(LocalError(method + " " + path + ": call deadline exceeded"));
      auto headers = Headers();
      if (!headers) return std::unexpected(headers.error());
      bool reused = false;
      auto conn = connection_retried
                      ? NewConnection(/*keep_alive=*/options.max_idle_connections > 0)
                      : Acquire(reused);
      const Duration timeout = SetTimeouts(*conn, options.request_timeout);
      const auto sent = std::chrono::steady_clock::now();
      httplib::Request req;
      req.method = method;
      req.path = url.prefix + path;
      req.headers = std::move(*headers);
      if (!content_type.empty()) {
        req.headers.emplace("Content-Type", std::string(content_type));
        req.body = std::string(body);
      }
      auto result = conn->send(req);
      if (!result) {
        // A timeout is a slow server, not a closed connection: never retried (the
        // caller's deadline would be spent twice). cpp-httplib reports both as Read or
        // Write errors, so a failure that took nearly the timeout counts as one.
        const bool timed_out = std::chrono::steady_clock::now() - sent >= timeout * 9 / 10;
        if (reused && !connection_retried && !timed_out &&
            (method == "GET" || result.error() == httplib::Error::Write)) {
          connection_retried = true;
          continue;
        }
        return std::unexpected(
            LocalError(method + " " + path + ": " + httplib::to_string(result.error())));
      }
      Release(std::move(conn));
      if (result->status == 401 && !token_retried && !config.token_file.empty()) {
        tokens->Invalidate();
        token_retried = true;
        continue;
      }
      return Response{result->status, std::move(result->body)};
    }
  }

  std::expected<nlohmann::json, Error> DoJson(const std::string& method, const std::string& path,
                                              std::string_view body = {},
                                              std::string_view content_type = {}) {
    auto response = Do(method, path, body, content_type);
    if (!response) return std::unexpected(response.error());
    if (!IsSuccess(response->status))
      return std::unexpected(StatusError(response->status, response->body));
    auto json = nlohmann::json::parse(response->body, nullptr, false);
    if (json.is_discarded())
      return std::unexpected(LocalError(method + " " + path + ": answer is not JSON"));
    return json;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

std::expected<std::unique_ptr<Client>, Error> Client::New(RestConfig config,
                                                          ClientOptions options) {
  // A kept-alive connection may be written to after the server closed it: the write must
  // fail with EPIPE (and the request be retried or reported) rather than end the process
  // with SIGPIPE. OpenSSL writes with send() without MSG_NOSIGNAL, so SIGPIPE is ignored
  // unless the program installed a handler of its own (cpp-httplib's Server does the same).
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
      std::signal(SIGPIPE, SIG_IGN);
  });
  auto impl = std::make_unique<Impl>();
  auto url = ParseServer(config.server);
  if (!url) return std::unexpected(url.error());
  impl->url = *url;
  if (!config.ca_pem.empty()) {
    auto ca_certs = ParseCertificates(config.ca_pem);
    if (ca_certs.empty())
      return std::unexpected(
          LocalError(config.origin + ": certificate authority holds no PEM certificate"));
    impl->ca_certs = std::move(ca_certs);
  }
  if (!config.client_cert_pem.empty()) {
    auto certs = ParseCertificates(config.client_cert_pem);
    if (certs.empty())
      return std::unexpected(
          LocalError(config.origin + ": client certificate is not a PEM certificate"));
    impl->client_cert = std::move(certs.front());
    BioPtr bio = MemoryBio(config.client_key_pem);
    impl->client_key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    ERR_clear_error();
    if (!impl->client_key)
      return std::unexpected(LocalError(config.origin + ": client key is not a PEM private key"));
    if (X509_check_private_key(impl->client_cert.get(), impl->client_key.get()) != 1) {
      ERR_clear_error();
      return std::unexpected(
          LocalError(config.origin + ": client key does not match the client certificate"));
    }
  }
  const Clock& clock = options.clock ? *options.clock : impl->real_clock;
  impl->tokens = std::make_unique<TokenSource>(config, clock, options.read_file);
  impl->config = std::move(config);
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const std::string& Client::DefaultNamespace() const { return impl_->config.namespace_name; }

std::uint64_t Client::ConnectionsOpened() const { return impl_->connections_opened.load(); }

std::expected<nlohmann::json, Error> Client::Get(const Resource& resource, std::string_view ns,
                                                 std::string_view name) {
  return impl_->DoJson("GET", resource.ObjectPath(ns, name));
}

std::expected<ListResult, Error> Client::List(const Resource& resource, std::string_view ns,
                                              const ListOptions& options) {
  ListResult out;
  std::string continue_token;
  do {
    auto page =
        impl_->DoJson("GET", resource.CollectionPath(ns) + ListQuery(options, continue_token));
    if (!page) return std::unexpected(page.error());
    if (!page->is_object())
      return std::unexpected(LocalError("LIST " + resource.plural + ": answer is not an object"));
    auto items = page->find("items");
    if (items != page->end() && items->is_array())
      for (auto& item : *items) out.items.push_back(std::move(item));
    continue_token.clear();
    auto meta = page->find("metadata");
    if (meta != page->end() && meta->is_object()) {
      if (auto rv = meta->find("resourceVersion"); rv != meta->end() && rv->is_string())
        out.resource_version = *rv;
      if (auto next = meta->find("continue"); next != meta->end() && next->is_string())
        continue_token = *next;
    }
  } while (!continue_token.empty());
  return out;
}

std::expected<std::string, Error> Client::List(
    const Resource& resource, std::string_view ns, const ListOptions& options,
    const std::function<void(const rapidjson::Value& item)>& on_item) {
  std::string resource_version;
  std::string continue_token;
  do {
    const std::string path = resource.CollectionPath(ns) + ListQuery(options, continue_token);
    auto response = impl_->Do("GET", path, {}, {});
    if (!response) return std::unexpected(response.error());
    if (!IsSuccess(response->status))
      return std::unexpected(StatusError(response->status, response->body));
    // The body is ours: parse it in place, so that strings are not copied again.
    rapidjson::Document page;
    page.ParseInsitu(response->body.data());
    if (page.HasParseError() || !page.IsObject())
      return std::unexpected(
          LocalError("LIST " + resource.plural + ": answer is not a JSON object"));
    auto items = page.FindMember("items");
    if (items != page.MemberEnd() && items->value.IsArray())
      for (const auto& item : items->value.GetArray()) on_item(item);
    continue_token.clear();
    auto meta = page.FindMember("metadata");
    if (meta != page.MemberEnd()) {
      std::string rv = StringMember(meta->value, "resourceVersion");
      if (!rv.empty()) resource_version = std::move(rv);
      continue_token = StringMember(meta->value, "continue");
    }
  } while (!continue_token.empty());
  return resource_version;
}

std::expected<nlohmann::json, Error> Client::Create(const Resource& resource, std::string_view ns,
                                                    const nlohmann::json& object,
                                                    const WriteOptions& options) {
  std::string query;
  AppendWriteOptions(query, options);
  return impl_->DoJson("POST", resource.CollectionPath(ns) + query, object.dump(),
                       "application/json");
}

namespace {
std::string SubresourcePath(std::string path, const WriteOptions& options) {
  if (!options.subresource.empty()) path += "/" + EscapePathSegment(options.subresource);
  return path;
}
}  // namespace

std::expected<nlohmann::json, Error> Client::Replace(const Resource& resource, std::string_view ns,
                                                     std::string_view name,
                                                     const nlohmann::json& object,
                                                     const WriteOptions& options) {
  std::string query;
  AppendWriteOptions(query, options);
  return impl_->DoJson("PUT", SubresourcePath(resource.ObjectPath(ns, name), options) + query,
                       object.dump(), "application/json");
}

std::expected<nlohmann::json, Error> Client::Patch(const Resource& resource, std::string_view ns,
                                                   std::string_view name, PatchType type,
                                                   std::string_view body,
                                                   const WriteOptions& options) {
  std::string query;
  AppendWriteOptions(query, options);
  std::string_view content_type = type == PatchType::kJson    ? "application/json-patch+json"
                                  : type == PatchType::kMerge ? "application/merge-patch+json"
                                                              : "application/apply-patch+yaml";
  if (type == PatchType::kApply && options.field_manager.empty())
    return std::unexpected(LocalError("server-side apply needs a field manager"));
  return impl_->DoJson("PATCH", SubresourcePath(resource.ObjectPath(ns, name), options) + query,
                       body, content_type);
}

std::expected<nlohmann::json, Error> Client::Delete(const Resource& resource, std::string_view ns,
                                                    std::string_view name,
                                                    const WriteOptions& options) {
  std::string query;
  AppendWriteOptions(query, options);
  return impl_->DoJson("DELETE", resource.ObjectPath(ns, name) + query);
}

std::expected<void, Error> Client::Watch(const Resource& resource, std::string_view ns,
                                         const WatchOptions& options,
                                         const std::function<bool(WatchEvent&&)>& on_event,
                                         std::stop_token stop) {
  std::string query;
  AppendParam(query, "watch", "1");
  if (options.allow_bookmarks) AppendParam(query, "allowWatchBookmarks", "true");
  if (!options.resource_version.empty())
    AppendParam(query, "resourceVersion", options.resource_version);
  AppendParam(query, "timeoutSeconds", std::to_string(options.timeout.count()));
  if (!options.label_selector.empty()) AppendParam(query, "labelSelector", options.label_selector);
  if (!options.field_selector.empty()) AppendParam(query, "fieldSelector", options.field_selector);
  const std::string path = resource.CollectionPath(ns) + query;

  auto headers = impl_->Headers();
  if (!headers) return std::unexpected(headers.error());
  // The apiserver ends the stream after `timeout`; a silent connection is dead sooner
  // or later than that only by a margin.
  auto conn = impl_->Connect(options.timeout + std::chrono::seconds(30));
  int status = 0;
  bool stopped = false;
  std::string error_body;
  std::string buffer;
  std::optional<Error> failure;

  auto deliver_lines = [&](bool flush) -> bool {
    std::size_t start = 0;
    for (;;) {
      std::size_t end = buffer.find('\n', start);
      if (end == std::string::npos) {
        if (!flush || start >= buffer.size()) break;
        end = buffer.size();
      }
      std::string_view line(buffer.data() + start, end - start);
      start = std::min(end + 1, buffer.size());
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      rapidjson::Document doc;
      auto event = DecodeWatchLine(line, doc);
      if (!event) {
        failure = event.error();
        return false;
      }
      if (!on_event(std::move(*event))) {
        stopped = true;
        return false;
      }
    }
    buffer.erase(0, start);
    if (buffer.size() > kMaxWatchLine) {
      failure = LocalError("watch: event longer than " + std::to_string(kMaxWatchLine) + " bytes");
      return false;
    }
    return true;
  };

  httplib::Request req;
  req.method = "GET";
  req.path = impl_->url.prefix + path;
  req.headers = std::move(*headers);
  req.response_handler = [&](const httplib::Response& response) {
    status = response.status;
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t size, std::uint64_t, std::uint64_t) {
    if (stop.stop_requested()) {
      stopped = true;
      return false;
    }
    if (status != 200) {
      if (error_body.size() < kMaxErrorBody) error_body.append(data, size);
      return true;
    }
    buffer.append(data, size);
    return deliver_lines(false);
  };
  if (stop.stop_requested()) return {};
  std::stop_callback cancel(stop, [&conn] { conn->stop(); });
  auto result = conn->send(req);
  if (stopped || stop.stop_requested()) return {};
  if (failure) return std::unexpected(*failure);
  if (status == 401 && !impl_->config.token_file.empty()) impl_->tokens->Invalidate();
  if (status != 0 && status != 200) return std::unexpected(StatusError(status, error_body));
  if (!result)
    return std::unexpected(
        LocalError("watch " + resource.plural + ": " + httplib::to_string(result.error())));
  if (!deliver_lines(true)) {
    if (failure) return std::unexpected(*failure);
  }
  return {};
}

}  // namespace bgpcomm::kube
