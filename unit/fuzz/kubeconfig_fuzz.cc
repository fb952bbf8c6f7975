#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kube/client.h"
#include "kube/config.h"

// Any bytes given as a kubeconfig must yield a config or a message naming the file,
// never a crash or an exception. File references read from a fake file system (no real
// files are touched); a config that loads is also handed to Client::New, which parses
// its PEM material.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bgpcomm::kube::KubeconfigOptions options;
  options.read_file = [](const std::string& path) -> std::expected<std::string, std::string> {
    if (path.ends_with(".pem") || path.ends_with(".crt")) return std::string("not a certificate");
    if (path.ends_with("token")) return std::string("fuzz-token\n");
    return std::unexpected(std::string("No such file or directory"));
  };
  auto config = bgpcomm::kube::ParseKubeconfig(text, "fuzz.kubeconfig", "/fuzz", options);
  if (!config) {
    if (!config.error().message.starts_with("fuzz.kubeconfig: ")) __builtin_trap();
    return 0;
  }
  if (config->server.empty()) __builtin_trap();
  auto client = bgpcomm::kube::Client::New(*config);
  if (!client && client.error().message.empty()) __builtin_trap();
  return 0;
}
