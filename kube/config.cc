#include "kube/config.h"

#include "kube/base64.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bgpcomm::kube {
namespace {

constexpr std::size_t kMaxFileBytes = 16 << 20;
constexpr std::size_t kMaxKubeconfigBytes = 4 << 20;

std::string Trim(std::string_view s) {
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return std::string(s);
}

std::string JoinPath(std::string_view base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  std::string out(base_dir);
  if (out.back() != '/') out += '/';
  return out + path;
}

// Problems in one kubeconfig, each as `ORIGIN: field: why`.
class KubeconfigParser {
 public:
  KubeconfigParser(std::string_view origin, std::string_view base_dir,
                   const KubeconfigOptions& options)
      : origin_(origin), base_dir_(base_dir), options_(options) {}

  std::expected<RestConfig, Error> Parse(std::string_view text) {
    if (text.size() > kMaxKubeconfigBytes)
      return Fail("", "file is larger than " + std::to_string(kMaxKubeconfigBytes) + " bytes");
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      return Fail("", "not YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    } catch (const std::exception& e) {
      return Fail("", std::string("not YAML: ") + e.what());
    }
    try {
      return FromRoot(root);
    } catch (const YAML::Exception& e) {
      return Fail("", "unexpected structure: " + e.msg);
    }
  }

 private:
  std::unexpected<Error> Fail(const std::string& field, const std::string& why) const {
    std::string msg = origin_ + ": ";
    if (!field.empty()) msg += field + ": ";
    return std::unexpected(LocalError(msg + why));
  }

  // A string field that may be absent (nullopt) but, if present, is a scalar.
  std::expected<std::optional<std::string>, Error> OptionalString(const YAML::Node& map,
                                                                  const std::string& key,
                                                                  const std::string& path) const {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) return std::nullopt;
    if (!node.IsScalar()) return Fail(path + "." + key, "must be a string");
    return node.Scalar();
  }

  // Finds `{name: NAME, <inner>: {...}}` in the list `list_key`.
  std::expected<YAML::Node, Error> FindNamed(const YAML::Node& root, const std::string& list_key,
                                             const std::string& inner, const std::string& name,
                                             std::string& path) const {
    YAML::Node list = root[list_key];
    if (!list.IsDefined() || list.IsNull())
      return Fail(list_key, "missing, but " + inner + " \"" + name + "\" is referenced");
    if (!list.IsSequence()) return Fail(list_key, "must be a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
      YAML::Node entry = list[i];
      std::string entry_path = list_key + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) return Fail(entry_path, "must be a mapping");
      YAML::Node entry_name = entry["name"];
      if (!entry_name.IsDefined() || !entry_name.IsScalar() || entry_name.Scalar() != name)
        continue;
      path = list_key + "[name=" + name + "]." + inner;
      YAML::Node body = entry[inner];
      if (!body.IsDefined() || body.IsNull()) return YAML::Node(YAML::NodeType::Map);
      if (!body.IsMap()) return Fail(path, "must be a mapping");
      return body;
    }
    return Fail(list_key, inner + " \"" + name + "\" not found");
  }

  // Reads `<key>-data` (base64) or `<key>` (a file) into `out`.
  std::expected<void, Error> ReadPem(const YAML::Node& map, const std::string& path,
                                     const std::string& key, std::string& out) const {
    auto data = OptionalString(map, key + "-data", path);
    if (!data) return std::unexpected(data.error());
    auto file = OptionalString(map, key, path);
    if (!file) return std::unexpected(file.error());
    if (*data && !(*data)->empty()) {
      auto decoded = DecodeBase64(**data);
      if (!decoded) return Fail(path + "." + key + "-data", decoded.error());
      if (decoded->empty()) return Fail(path + "." + key + "-data", "is empty");
      out = std::move(*decoded);
      return {};
    }
    if (*file && !(*file)->empty()) {
      std::string full = JoinPath(base_dir_, **file);
      auto content = options_.read_file(full);
      if (!content) return Fail(path + "." + key, "cannot read " + full + ": " + content.error());
      out = std::move(*content);
    }
    return {};
  }

  std::expected<RestConfig, Error> FromRoot(const YAML::Node& root) {
    if (!root.IsMap()) return Fail("", "must be a mapping with clusters, contexts and users");
    RestConfig config;
    std::string context_name = options_.context;
    if (context_name.empty()) {
      auto current = OptionalString(root, "current-context", "");
      if (!current) return Fail("current-context", "must be a string");
      if (!*current || (*current)->empty())
        return Fail("current-context", "not set and no context was given");
      context_name = **current;
    }
    config.origin = origin_ + " context " + context_name;

    std::string context_path;
    auto context = FindNamed(root, "contexts", "context", context_name, context_path);
    if (!context) return std::unexpected(context.error());
    auto cluster_name = OptionalString(*context, "cluster", context_path);
    if (!cluster_name) return std::unexpected(cluster_name.error());
    if (!*cluster_name || (*cluster_name)->empty())
      return Fail(context_path + ".cluster", "missing");
    auto user_name = OptionalString(*context, "user", context_path);
    if (!user_name) return std::unexpected(user_name.error());
    auto ns = OptionalString(*context, "namespace", context_path);
    if (!ns) return std::unexpected(ns.error());
    if (*ns) config.namespace_name = **ns;

    std::string cluster_path;
    auto cluster = FindNamed(root, "clusters", "cluster", **cluster_name, cluster_path);
    if (!cluster) return std::unexpected(cluster.error());
    auto server = OptionalString(*cluster, "server", cluster_path);
    if (!server) return std::unexpected(server.error());
    if (!*server || (*server)->empty()) return Fail(cluster_path + ".server", "missing");
    config.server = **server;
    if (!config.server.starts_with("https://") && !config.server.starts_with("http://"))
      return Fail(cluster_path + ".server",
                  "\"" + config.server + "\" must start with https:// or http://");
    if (auto r = ReadPem(*cluster, cluster_path, "certificate-authority", config.ca_pem); !r)
      return std::unexpected(r.error());
    YAML::Node insecure = (*cluster)["insecure-skip-tls-verify"];
    if (insecure.IsDefined() && !insecure.IsNull()) {
      bool value = false;
      if (!insecure.IsScalar() || !YAML::convert<bool>::decode(insecure, value))
        return Fail(cluster_path + ".insecure-skip-tls-verify", "must be true or false");
      config.insecure_skip_tls_verify = value;
    }

    if (*user_name && !(*user_name)->empty()) {
      std::string user_path;
      auto user = FindNamed(root, "users", "user", **user_name, user_path);
      if (!user) return std::unexpected(user.error());
      for (const char* unsupported : {"exec", "auth-provider", "username"}) {
        YAML::Node node = (*user)[unsupported];
        if (node.IsDefined() && !node.IsNull())
          return Fail(user_path + "." + unsupported, "is not supported by bgpcomm");
      }
      if (auto r = ReadPem(*user, user_path, "client-certificate", config.client_cert_pem); !r)
        return std::unexpected(r.error());
      if (auto r = ReadPem(*user, user_path, "client-key", config.client_key_pem); !r)
        return std::unexpected(r.error());
      if (config.client_cert_pem.empty() != config.client_key_pem.empty())
        return Fail(user_path, config.client_cert_pem.empty()
                                   ? "client-key given without client-certificate"
                                   : "client-certificate given without client-key");
      auto token = OptionalString(*user, "token", user_path);
      if (!token) return std::unexpected(token.error());
      auto token_file = OptionalString(*user, "tokenFile", user_path);
      if (!token_file) return std::unexpected(token_file.error());
      if (*token) config.token = Trim(**token);
      if (*token_file && !(*token_file)->empty()) {
        config.token_file = JoinPath(base_dir_, **token_file);
        if (config.token.empty()) {
          // Without a fallback token an unreadable file is a configuration error.
          auto content = options_.read_file(config.token_file);
          if (!content)
            return Fail(user_path + ".tokenFile",
                        "cannot read " + config.token_file + ": " + content.error());
        }
      }
    }
    return config;
  }

  std::string origin_;
  std::string base_dir_;
  const KubeconfigOptions& options_;
};

}  // namespace

std::expected<std::string, std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(std::string(std::strerror(errno)));
  std::string out;
  std::array<char, 8192> buf;
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    out.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (out.size() > kMaxFileBytes)
      return std::unexpected("larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  if (in.bad()) return std::unexpected(std::string("read error"));
  return out;
}

std::optional<std::string> ProcessEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::expected<RestConfig, Error> LoadKubeconfig(const std::string& path,
                                                const KubeconfigOptions& options) {
  auto text = options.read_file(path);
  if (!text) return std::unexpected(LocalError(path + ": cannot read: " + text.error()));
  std::string base_dir;
  if (auto slash = path.rfind('/'); slash != std::string::npos)
    base_dir = path.substr(0, slash);
  else
    base_dir = ".";
  if (base_dir.empty()) base_dir = "/";
  return ParseKubeconfig(*text, path, base_dir, options);
}

std::expected<RestConfig, Error> ParseKubeconfig(std::string_view text, std::string_view origin,
                                                 std::string_view base_dir,
                                                 const KubeconfigOptions& options) {
  return KubeconfigParser(origin, base_dir, options).Parse(text);
}

std::expected<RestConfig, Error> InClusterConfig(const InClusterPaths& paths, const EnvLookup& env,
                                                 const FileReader& read_file) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return std::unexpected(LocalError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"));
  for (char c : *port)
    if (c < '0' || c > '9')
      return std::unexpected(LocalError("in-cluster config: KUBERNETES_SERVICE_PORT: \"" + *port +
                                        "\" is not a port number"));
  RestConfig config;
  std::string authority = host->find(':') != std::string::npos ? "[" + *host + "]" : *host;
  config.server = "https://" + authority + ":" + *port;
  config.origin = "in-cluster service account";
  auto token = read_file(paths.token);
  if (!token)
    return std::unexpected(LocalError(paths.token + ": cannot read token: " + token.error()));
  config.token_file = paths.token;
  auto ca = read_file(paths.ca);
  if (!ca) return std::unexpected(LocalError(paths.ca + ": cannot read CA: " + ca.error()));
  config.ca_pem = std::move(*ca);
  if (auto ns = read_file(paths.namespace_file); ns) config.namespace_name = Trim(*ns);
  return config;
}

TokenSource::TokenSource(const RestConfig& config, const Clock& clock, FileReader read_file,
                         Duration max_age)
    : static_token_(config.token),
      token_file_(config.token_file),
      clock_(clock),
      read_file_(std::move(read_file)),
      max_age_(max_age) {}

std::expected<std::string, Error> TokenSource::Token() {
  // Like client-go, a token file takes precedence over a static token when both are set.
  if (token_file_.empty()) return static_token_;
  std::lock_guard lock(mu_);
  TimePoint now = clock_.Now();
  if (read_at_ && now - *read_at_ < max_age_) return cached_;
  auto content = read_file_(token_file_);
  if (!content) {
    // Keep the last token: the file may be mid-rotation.
    if (!cached_.empty()) return cached_;
    if (!static_token_.empty()) return static_token_;
    return std::unexpected(LocalError(token_file_ + ": cannot read token: " + content.error()));
  }
  cached_ = Trim(*content);
  read_at_ = now;
  return cached_;
}

void TokenSource::Invalidate() {
  std::lock_guard lock(mu_);
  read_at_.reset();
}

}  // namespace bgpcomm::kube
