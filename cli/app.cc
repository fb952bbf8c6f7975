#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <exception>
#include <map>
#include <string>

#include "cli/certs_command.h"
#include "cli/lint.h"
#include "cli/options.h"
#include "cli/resolve_command.h"
#include "cli/routes_command.h"
#include "cli/status_command.h"
#include "version/version.h"

namespace bgpcomm::cli {
namespace {

// Flags both subcommands take, bound to `options` and the raw strings they map from.
struct CommonFlags {
  std::string output = "text";
  std::string unresolved = "reject";
};

void AddCommonFlags(CLI::App& command, CheckOptions& options, CommonFlags& flags) {
  command
      .add_option("--namespace", options.namespace_name,
                  "namespace of objects without metadata.namespace, and the one the "
                  "speaker serves")
      ->capture_default_str();
  command.add_option("--output", flags.output, "diagnostics as text lines or one JSON object")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  command
      .add_option("--unresolved-aliases", flags.unresolved,
                  "an entry naming no alias: reject (error) or warn (left unresolved)")
      ->check(CLI::IsMember({"reject", "warn"}))
      ->capture_default_str();
  command.add_option("paths", options.paths,
                     "YAML or JSON files, or folders (recursed); - reads standard input")
      ->required();
}

void ApplyCommonFlags(const CommonFlags& flags, CheckOptions& options) {
  options.output = flags.output == "json" ? OutputFormat::kJson : OutputFormat::kText;
  options.unresolved = flags.unresolved == "warn" ? community::UnresolvedPolicy::kWarn
                                                  : community::UnresolvedPolicy::kReject;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"bgpcomm: BGP community aliases for MetalLB-style manifests, checked offline"};
  app.name("bgpcomm");
  app.set_version_flag("--version", "bgpcomm " + std::string(Version()),
                       "print the version (the chart's appVersion) and exit");
  app.require_subcommand(1);

  CheckOptions lint_options;
  CommonFlags lint_flags;
  CLI::App* lint = app.add_subcommand(
      "lint",
      "judge manifests as one set with the webhook's rules (exit 0 clean, 1 problems, "
      "2 unreadable)");
  AddCommonFlags(*lint, lint_options, lint_flags);

  ResolveOptions resolve_options;
  CommonFlags resolve_flags;
  std::string expand = "annotation";
  CLI::App* resolve = app.add_subcommand(
      "resolve", "print the manifests as the webhook would store them (exit as lint)");
  AddCommonFlags(*resolve, resolve_options, resolve_flags);
  resolve
      ->add_option("--expand", expand,
                   "annotation: store the resolution in an annotation; in-place: also "
                   "rewrite spec.communities")
      ->check(CLI::IsMember({"annotation", "in-place"}))
      ->capture_default_str();

  RoutesOptions routes_options;
  std::string routes_output = "text";
  CLI::App* routes = app.add_subcommand(
      "routes",
      "print what each speaker would announce, per node and peer; with --base OLD... -- "
      "NEW..., only what the change does to the routers (exit 0 none, 3 routes move, 2 "
      "unreadable)");
  routes->add_option("--node", routes_options.node,
                     "only this node (its Node object's labels if the manifests hold it)");
  routes->add_option("--lb-class", routes_options.load_balancer_class,
                     "predict addresses as an allocator serving this loadBalancerClass");
  routes->add_option("--output", routes_output, "text for people, json for programs")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  routes->add_option("--base", routes_options.base_paths,
                     "the manifests before the change (files or folders); end them with --");
  routes->add_option("paths", routes_options.paths, "YAML or JSON files, or folders (recursed)")
      ->required();

  StatusOptions status_options;
  std::string status_output = "text";
  CLI::App* status = app.add_subcommand(
      "status",
      "from the API: each node's BGP sessions (state, uptime, prefixes sent), refused "
      "advertisements, and the predicted routes the speakers do not send (exit 0 healthy, "
      "1 a session down or a route missing, 2 unreadable); also `kubectl bgpcomm status`");
  status->add_option("--kubeconfig", status_options.kubeconfig,
                     "kubeconfig file (default $KUBECONFIG, ~/.kube/config, else in-cluster)");
  status->add_option("--context", status_options.context, "kubeconfig context");
  status->add_option("--namespace", status_options.namespace_name,
                     "namespace of the metallb.io objects and the status objects")
      ->capture_default_str();
  status->add_option("--node", status_options.node, "only this node");
  status->add_option("--lb-class", status_options.load_balancer_class,
                     "predict addresses as an allocator serving this loadBalancerClass");
  status->add_option("--output,-o", status_output, "text for people, json for programs")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  CertsOptions certs_options;
  int validity_hours = 8760;
  CLI::App* certs_command = app.add_subcommand(
      "certs", "write a CA and a serving certificate and key for the webhook into a folder");
  certs_command
      ->add_option("--out", certs_options.out_dir, "folder for ca.crt, ca.key, tls.crt, tls.key")
      ->required();
  certs_command->add_option("--dns", certs_options.dns_names,
                            "subjectAltName DNS name (repeatable)");
  certs_command->add_option("--ip", certs_options.ip_addresses,
                            "subjectAltName IP address (repeatable)");
  certs_command->add_option("--common-name", certs_options.common_name,
                            "subject CN (default: the first name)");
  certs_command->add_option("--validity-hours", validity_hours, "lifetime of both certificates")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e, out, err);
    return code == 0 ? kExitClean : kExitUnreadable;
  }

  try {
    if (certs_command->parsed()) {
      certs_options.validity = std::chrono::hours(validity_hours);
      return RunCerts(certs_options, out, err);
    }
    if (status->parsed()) {
      status_options.output = status_output == "json" ? OutputFormat::kJson : OutputFormat::kText;
      return RunStatus(status_options, out, err);
    }
    if (routes->parsed()) {
      routes_options.output = routes_output == "json" ? OutputFormat::kJson : OutputFormat::kText;
      return RunRoutes(routes_options, out, err);
    }
    if (lint->parsed()) {
      ApplyCommonFlags(lint_flags, lint_options);
      return RunLint(lint_options, out, err);
    }
    ApplyCommonFlags(resolve_flags, resolve_options);
    resolve_options.expand =
        expand == "in-place" ? community::ExpandMode::kInPlace : community::ExpandMode::kAnnotation;
    return RunResolve(resolve_options, out, err);
  } catch (const std::exception& e) {
    err << "bgpcomm: error: " << e.what() << '\n';
    return kExitUnreadable;
  }
}

}  // namespace bgpcomm::cli
