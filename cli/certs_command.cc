#include "cli/certs_command.h"

#include <filesystem>
#include <fstream>

#include "certs/certificate_authority.h"
#include "cli/options.h"

namespace bgpcomm::cli {
namespace {

bool WriteFile(const std::filesystem::path& path, const std::string& content, bool secret) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << content;
  if (!file.flush()) return false;
  file.close();
  std::error_code error;
  using std::filesystem::perms;
  std::filesystem::permissions(
      path,
      secret ? perms::owner_read | perms::owner_write
             : perms::owner_read | perms::owner_write | perms::group_read | perms::others_read,
      error);
  return !error;
}

}  // namespace

int RunCerts(const CertsOptions& options, std::ostream& out, std::ostream& err) {
  if (options.dns_names.empty() && options.ip_addresses.empty()) {
    err << "bgpcomm certs: give at least one --dns or --ip\n";
    return kExitUnreadable;
  }
  std::string common_name = options.common_name;
  if (common_name.empty()) {
    common_name =
        options.dns_names.empty() ? options.ip_addresses.front() : options.dns_names.front();
  }
  auto now = std::chrono::system_clock::now();
  auto ca = certs::GenerateCa({.common_name = common_name + "-ca",
                               .not_before = now - std::chrono::hours(1),
                               .validity = options.validity + std::chrono::hours(1)});
  if (!ca) {
    err << "bgpcomm certs: " << ca.error() << '\n';
    return kExitUnreadable;
  }
  auto leaf = certs::IssueServing(*ca, {.common_name = common_name,
                                        .dns_names = options.dns_names,
                                        .ip_addresses = options.ip_addresses,
                                        .not_before = now - std::chrono::hours(1),
                                        .validity = options.validity + std::chrono::hours(1)});
  if (!leaf) {
    err << "bgpcomm certs: " << leaf.error() << '\n';
    return kExitUnreadable;
  }
  std::filesystem::path dir(options.out_dir);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  for (const auto& [name, content, secret] :
       {std::tuple{"ca.crt", &ca->certificate, false}, std::tuple{"ca.key", &ca->private_key, true},
        std::tuple{"tls.crt", &leaf->certificate, false},
        std::tuple{"tls.key", &leaf->private_key, true}}) {
    if (!WriteFile(dir / name, *content, secret)) {
      err << "bgpcomm certs: cannot write " << (dir / name).string() << '\n';
      return kExitUnreadable;
    }
    out << (dir / name).string() << '\n';
  }
  return kExitClean;
}

}  // namespace bgpcomm::cli
