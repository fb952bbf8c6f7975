// The webhook's HTTPS server with a fixed view (10,000 aliases, no API server), for load
// tests with wrk: the same TLS, HTTP and admission code as bgpcomm-webhook, and its
// /noop endpoint as the baseline. Prints "port=N pid=N" once serving; stops on SIGTERM.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "bench/bench_fixtures.h"
#include "bench/static_view.h"
#include "certs/certificate_authority.h"
#include "webhook/server.h"

namespace {

using namespace bgpcomm;

}  // namespace

int main(int argc, char** argv) {
  const int aliases = argc > 1 ? std::stoi(argv[1]) : 10000;
  const std::filesystem::path dir = argc > 2 ? argv[2] : std::filesystem::temp_directory_path();
  spdlog::set_level(spdlog::level::warn);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  certs::CertificateRequest request{
      .common_name = "bgpcomm-bench CA",
      .not_before = std::chrono::system_clock::now() - std::chrono::minutes(1)};
  auto ca = certs::GenerateCa(request);
  request.common_name = "bgpcomm-bench";
  request.ip_addresses = {"127.0.0.1"};
  auto serving = certs::IssueServing(*ca, request);
  std::ofstream(dir / "tls.crt") << serving->certificate;
  std::ofstream(dir / "tls.key") << serving->private_key;
  auto certificate = certs::ServingCertificate::Load(dir / "tls.crt", dir / "tls.key");
  if (!certificate) {
    std::cerr << certificate.error() << "\n";
    return 1;
  }

  bench::StaticView view(bench::NamespaceWithAliases(aliases));
  webhook::WebhookMetrics metrics;
  webhook::WebhookServer server(
      {.bind_address = "127.0.0.1", .port = 0}, **certificate,
      [&view](webhook::Endpoint endpoint, const webhook::AdmissionRequest& admission,
              bool may_block) { return webhook::Decide(endpoint, admission, view, {}, may_block); },
      metrics, [] { return true; });
  auto port = server.Bind();
  if (!port) {
    std::cerr << port.error() << "\n";
    return 1;
  }
  std::jthread stopper([&] {
    int signal = 0;
    sigwait(&signals, &signal);
    server.Shutdown();
  });
  std::cout << "port=" << *port << " pid=" << getpid() << std::endl;
  server.Serve();
  stopper.detach();
  return 0;
}
