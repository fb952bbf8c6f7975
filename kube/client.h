// A small Kubernetes REST client over cpp-httplib: GET, paginated LIST, CREATE,
// REPLACE, PATCH, DELETE and a streaming WATCH. Calls but WATCH take a kept-alive
// connection from a small pool (one call per connection at a time) and give it back;
// each WATCH opens a connection of its own. One Client is safe to share between threads.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "kube/clock.h"
#include "kube/config.h"
#include "kube/error.h"
#include "kube/resource.h"

namespace bgpcomm::kube {

struct ClientOptions {
  Duration connect_timeout = std::chrono::seconds(10);
  // Read and write timeout of every call but WATCH.
  Duration request_timeout = std::chrono::seconds(30);
  // Clock of the token cache; nullptr: the system clock.
  const Clock* clock = nullptr;
  // Reads the token file; tests replace it.
  FileReader read_file = ReadWholeFile;
  std::string user_agent = "bgpcomm";
  // Idle kept-alive connections the client holds for its next calls (about one per
  // thread that calls at once); 0: every call opens and closes its own connection.
  std::size_t max_idle_connections = 8;
  // An idle connection is closed after this long, before the apiserver's own idle
  // timeout (90 s) closes it under a request.
  Duration idle_timeout = std::chrono::seconds(45);
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  // `resourceVersion` of the first page; "0": any version the API server's watch cache
  // holds (no etcd read); empty: the latest, read from etcd.
  std::string resource_version;
  // Page size (`limit`); the client follows `continue` until the list is complete.
  std::int64_t page_size = 500;
};

struct ListResult {
  std::vector<nlohmann::json> items;
  // `metadata.resourceVersion` of the list: where a WATCH resumes.
  std::string resource_version;
};

struct WriteOptions {
  // `dryRun=All`: the apiserver validates and admits but stores nothing.
  bool dry_run = false;
  // `fieldManager`; required for server-side apply.
  std::string field_manager;
  // `force=true` for server-side apply conflicts.
  bool force = false;
  // The object's subresource the write goes to, e.g. "status" (PUT NAME/status); empty:
  // the object itself.
  std::string subresource;
};

enum class PatchType {
  kJson,   // application/json-patch+json (RFC 6902)
  kMerge,  // application/merge-patch+json (RFC 7386)
  kApply,  // application/apply-patch+yaml (server-side apply; JSON is valid YAML)
};

struct WatchOptions {
  // Where to start; empty: the current state as synthetic ADDED events.
  std::string resource_version;
  std::string label_selector;
  std::string field_selector;
  // `timeoutSeconds`: the apiserver ends the stream after this long.
  std::chrono::seconds timeout = std::chrono::minutes(5);
  bool allow_bookmarks = true;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// `ADDED`, `MODIFIED`, ...
std::string_view ToString(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // The object's identity (for kBookmark only its resourceVersion is meaningful); not
  // decoded: the receiver decodes `json`.
  Object object;
  // The object as the stream carried it; valid only while the event is being handled.
  const rapidjson::Value* json = nullptr;
  // For kError: the Status the apiserver sent (410 `Expired` means relist).
  Error error;
};

// Turns an object's JSON into what its consumer keeps (a decoded struct, an index entry,
// the text itself); null keeps nothing beyond the identity. Runs once per object and
// version, on the thread that received it; must not throw.
using Decoder = std::function<std::shared_ptr<const void>(const rapidjson::Value& object)>;

// A Decoder from `decode`, a callable taking `const rapidjson::Value&` and returning T.
template <typename Decode>
Decoder DecodeAs(Decode decode) {
  return
      [decode = std::move(decode)](const rapidjson::Value& object) -> std::shared_ptr<const void> {
        using T = std::decay_t<decltype(decode(object))>;
        return std::make_shared<const T>(decode(object));
      };
}

// A Decoder keeping the object's compact JSON text (a std::string).
Decoder KeepJsonText();

// Identity and resourceVersion of a JSON object, and `decode(object)` when given.
Object ToObject(const rapidjson::Value& object, const Decoder& decode = nullptr);

class Client {
 public:
  // Validates `config` (server URL, PEM material) and builds a client.
  static std::expected<std::unique_ptr<Client>, Error> New(RestConfig config,
                                                           ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The namespace of the config (kubeconfig context or service account); may be empty.
  const std::string& DefaultNamespace() const;

  // GET one object.
  std::expected<nlohmann::json, Error> Get(const Resource& resource, std::string_view ns,
                                           std::string_view name);
  // LIST all objects, following `continue` across pages. An expired continue token
  // (410) fails the call; the caller lists again.
  std::expected<ListResult, Error> List(const Resource& resource, std::string_view ns,
                                        const ListOptions& options = {});
  // LIST as above, handing each item to `on_item` as its page is parsed (the value is
  // valid only during the call; no page is kept), and returning the list's
  // resourceVersion. RapidJSON all the way: what informers use.
  std::expected<std::string, Error> List(
      const Resource& resource, std::string_view ns, const ListOptions& options,
      const std::function<void(const rapidjson::Value& item)>& on_item);
  // POST `object` to the collection; returns the stored object.
  std::expected<nlohmann::json, Error> Create(const Resource& resource, std::string_view ns,
                                              const nlohmann::json& object,
                                              const WriteOptions& options = {});
  // PUT `object` (its metadata.resourceVersion makes this a compare-and-swap: 409 on
  // conflict); returns the stored object.
  std::expected<nlohmann::json, Error> Replace(const Resource& resource, std::string_view ns,
                                               std::string_view name, const nlohmann::json& object,
                                               const WriteOptions& options = {});
  // PATCH with `body` of `type`; returns the stored object.
  std::expected<nlohmann::json, Error> Patch(const Resource& resource, std::string_view ns,
                                             std::string_view name, PatchType type,
                                             std::string_view body,
                                             const WriteOptions& options = {});
  // DELETE; returns the apiserver's answer (the object or a Status).
  std::expected<nlohmann::json, Error> Delete(const Resource& resource, std::string_view ns,
                                              std::string_view name,
                                              const WriteOptions& options = {});

  // Streams WATCH events of the collection to `on_event` until the apiserver ends the
  // stream (success), `on_event` returns false or `stop` is requested (success), or the
  // connection fails or the apiserver refuses (error; 410 means relist).
  std::expected<void, Error> Watch(const Resource& resource, std::string_view ns,
                                   const WatchOptions& options,
                                   const std::function<bool(WatchEvent&&)>& on_event,
                                   std::stop_token stop = {});

  // Connections opened so far (each a TCP, and for https a TLS, handshake), WATCH
  // streams included: what tests of connection reuse count.
  std::uint64_t ConnectionsOpened() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Bounds the calls this thread makes while the scope lives: each call's connect, read and write timeouts are cut to the time left before `deadline`, and
// a call made past it fails at once without a request. Scopes nest; the nearest deadline
// wins. What a leader uses to give a renewal or a write only the time its lease has left.
class CallDeadline {
 public:
  explicit CallDeadline(std::chrono::steady_clock::time_point deadline);
  explicit CallDeadline(Duration left)
      : CallDeadline(std::chrono::steady_clock::now() +
                     std::max(left, Duration::zero())) {}
  ~CallDeadline();
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;
  // The deadline in force on this thread, if any.
  static std::optional<std::chrono::steady_clock::time_point> Current();

 private:
  std::optional<std::chrono::steady_clock::time_point> previous_;
};

// `value` percent-encoded for a URL query (RFC 3986 unreserved characters kept).
std::string QueryEscape(std::string_view value);

}  // namespace bgpcomm::kube
