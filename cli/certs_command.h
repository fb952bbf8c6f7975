// `bgpcomm certs`: a CA and a serving certificate signed by it, written to a folder, for
// setups that bring the webhook's certificate themselves (--cert-mode=files).
#pragma once

#include <chrono>
#include <ostream>
#include <string>
#include <vector>

namespace bgpcomm::cli {

struct CertsOptions {
  std::string out_dir;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  std::string common_name;  // empty: the first DNS name, else the first IP
  std::chrono::seconds validity{std::chrono::hours(8760)};
};

// Writes ca.crt, ca.key, tls.crt and tls.key (keys mode 0600) into `options.out_dir`
// (created if missing) and lists them on `out`. Returns 0, or 2 with a message on `err`
// when nothing names the certificate or a file cannot be written.
int RunCerts(const CertsOptions& options, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
