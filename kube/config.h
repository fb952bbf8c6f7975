// Where the apiserver is and how to authenticate to it: from a kubeconfig file (or its
// text) or from the in-cluster service-account files. Problems are reported as
// `FILE: field: why`, never thrown.
#pragma once

#include <expected>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kube/clock.h"
#include "kube/error.h"

namespace bgpcomm::kube {

// Reads a whole file; the error is a short reason (`No such file or directory`).
// Injectable so that tests and the fuzzer decide what the file system holds.
using FileReader = std::function<std::expected<std::string, std::string>(const std::string& path)>;

// The default FileReader: the real file system, files up to 16 MiB.
std::expected<std::string, std::string> ReadWholeFile(const std::string& path);

// An environment lookup; nullopt when the variable is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The default EnvLookup: the process environment.
std::optional<std::string> ProcessEnv(const std::string& name);

// Everything needed to talk to one apiserver. Certificates and keys are held as PEM
// text (files are read when the config is loaded); the bearer token is either static
// or re-read from `token_file` by TokenSource.
struct RestConfig {
  // `https://host:port` or `http://host:port`, optionally with a path prefix.
  std::string server;
  // PEM CA bundle that verifies the server; empty: the system's default CAs.
  std::string ca_pem;
  // PEM client certificate and key for mutual TLS; both or neither.
  std::string client_cert_pem;
  std::string client_key_pem;
  // A static bearer token, or a file holding one (read by TokenSource).
  std::string token;
  std::string token_file;
  bool insecure_skip_tls_verify = false;
  // The namespace of the kubeconfig context or of the service account; may be empty.
  std::string namespace_name;
  // Where this came from, for log lines (`kubeconfig /root/.kube/config context kind`).
  std::string origin;
};

struct KubeconfigOptions {
  // Context to use instead of `current-context`; empty: `current-context`.
  std::string context;
  FileReader read_file = ReadWholeFile;
};

// Loads the kubeconfig at `path`; relative file references in it are resolved against
// its folder.
std::expected<RestConfig, Error> LoadKubeconfig(const std::string& path,
                                                const KubeconfigOptions& options = {});

// Parses kubeconfig `text`; `origin` names it in messages, `base_dir` resolves relative
// file references. Supports clusters (server, certificate-authority[-data],
// insecure-skip-tls-verify), users (client-certificate[-data], client-key[-data],
// token, tokenFile) and contexts (cluster, user, namespace).
std::expected<RestConfig, Error> ParseKubeconfig(std::string_view text, std::string_view origin,
                                                 std::string_view base_dir,
                                                 const KubeconfigOptions& options = {});

// The files a pod's service account mounts; tests point them elsewhere.
struct InClusterPaths {
  std::string token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_file = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

// The config of a pod: server from KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT,
// CA and namespace from the files, the token re-read from its file as it rotates.
std::expected<RestConfig, Error> InClusterConfig(const InClusterPaths& paths = {},
                                                 const EnvLookup& env = ProcessEnv,
                                                 const FileReader& read_file = ReadWholeFile);


// The bearer token of a RestConfig. A token file is re-read when the copy held is older
// than `max_age` (kubelet rotates projected tokens well before they expire) or after
// Invalidate() (the apiserver answered 401). Thread-safe.
class TokenSource {
 public:
  TokenSource(const RestConfig& config, const Clock& clock, FileReader read_file = ReadWholeFile,
              Duration max_age = std::chrono::minutes(1));

  // The current token; empty when the config has none. Fails only when the token file
  // cannot be read and no earlier copy exists.
  std::expected<std::string, Error> Token();
  // Forces the next Token() to re-read the file.
  void Invalidate();

 private:
  std::string static_token_;
  std::string token_file_;
  const Clock& clock_;
  FileReader read_file_;
  Duration max_age_;
  std::mutex mu_;
  std::string cached_;
  std::optional<TimePoint> read_at_;
};

}  // namespace bgpcomm::kube
