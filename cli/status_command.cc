#include "cli/status_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/options.h"
#include "cli/routes_preview.h"
#include "cli/status_report.h"
#include "kube/client.h"
#include "kube/config.h"
#include "objectjson/metallb_resources.h"
#include "objectjson/status.h"

namespace bgpcomm::cli {
namespace {

const kube::Resource kNamespaces{"", "v1", "namespaces", "Namespace", /*namespaced=*/false};

std::expected<kube::RestConfig, kube::Error> Config(const StatusOptions& options) {
  std::string path = options.kubeconfig;
  if (path.empty()) {
    if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
      path = std::string(env).substr(0, std::string(env).find(':'));
    } else if (const char* home = std::getenv("HOME");
               home && std::filesystem::exists(std::string(home) + "/.kube/config")) {
      path = std::string(home) + "/.kube/config";
    }
  }
  if (path.empty()) return kube::InClusterConfig();
  return kube::LoadKubeconfig(path, {.context = options.context});
}

// A folder of its own under $TMPDIR, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bgpcomm-status-XXXXXX").string();
    if (mkdtemp(pattern.data())) path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

int RunStatus(const StatusOptions& options, std::ostream& out, std::ostream& err) {
  auto config = Config(options);
  if (!config) {
    err << "bgpcomm status: " << config.error().ToString() << "\n";
    return kExitUnreadable;
  }
  auto client = kube::Client::New(*config, {.user_agent = "bgpcomm-status"});
  if (!client) {
    err << "bgpcomm status: " << client.error().ToString() << "\n";
    return kExitUnreadable;
  }
  const std::string& ns = options.namespace_name;
  // The stored objects, as `bgpcomm routes` reads manifests: one file of JSON documents.
  struct Source {
    const kube::Resource* resource;
    std::string ns;
    bool required;
  };
  const Source sources[] = {
      {&objectjson::kBGPPeers, ns, true},          {&objectjson::kBGPAdvertisements, ns, true},
      {&objectjson::kIPAddressPools, ns, true},    {&objectjson::kCommunities, ns, true},
      {&kube::resources::kServices, "", true},     {&kube::resources::kEndpointSlices, "", true},
      {&kube::resources::kNodes, "", true},        {&kNamespaces, "", false},
  };
  TempDir dir;
  if (dir.path.empty()) {
    err << "bgpcomm status: cannot make a temporary folder\n";
    return kExitUnreadable;
  }
  std::set<std::string> nodes;
  {
    std::ofstream file(dir.path / "objects.yaml");
    for (const Source& source : sources) {
      auto listed = (*client)->List(*source.resource, source.ns);
      if (!listed) {
        if (!source.required) continue;  // namespace labels: only for predicted addresses
        err << "bgpcomm status: cannot list " << source.resource->plural << ": "
            << listed.error().ToString() << "\n";
        return kExitUnreadable;
      }
      for (nlohmann::json& item : listed->items) {
        item["apiVersion"] = source.resource->ApiVersion();
        item["kind"] = source.resource->kind;
        if (item.contains("metadata")) item["metadata"].erase("managedFields");
        if (source.resource == &kube::resources::kNodes) {
          nodes.insert(item["metadata"].value("name", ""));
        }
        file << "---\n" << item.dump() << "\n";
      }
    }
  }
  auto sessions = (*client)->List(objectjson::kBGPSessionStates, ns);
  if (!sessions) {
    err << "bgpcomm status: cannot list bgpsessionstates: " << sessions.error().ToString()
        << "\n";
    return kExitUnreadable;
  }
  auto configurations = (*client)->List(objectjson::kConfigurationStates, ns);
  std::vector<nlohmann::json> configuration_items;
  if (configurations) configuration_items = configurations->items;
  for (const nlohmann::json& s : sessions->items) {
    nodes.insert(s.value("status", nlohmann::json::object()).value("node", ""));
  }
  nodes.erase("");
  if (!options.node.empty()) nodes = {options.node};

  std::vector<Preview> predictions;
  const std::string paths[] = {dir.path.string()};
  for (const std::string& node : nodes) {
    auto preview = BuildPreview(paths, {.node = node,
                                        .load_balancer_class = options.load_balancer_class});
    if (!preview) {
      err << "bgpcomm status: the stored objects cannot be read: " << preview.error() << "\n";
      return kExitUnreadable;
    }
    predictions.push_back(std::move(*preview));
  }
  StatusReport report = BuildStatusReport(predictions, sessions->items, configuration_items,
                                          std::chrono::system_clock::now());
  if (options.output == OutputFormat::kJson) {
    out << StatusJson(report).dump(2) << "\n";
  } else {
    out << StatusText(report);
  }
  return report.healthy() ? kExitClean : kExitUnhealthy;
}

}  // namespace bgpcomm::cli
