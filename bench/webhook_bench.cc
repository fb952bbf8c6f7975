// decide() per AdmissionReview (issue target: under 20 µs for an advertisement of 10
// aliases with 10,000 aliases cached). Baseline in the same run: decoding the review and
// encoding an "allowed" answer, which every request costs whatever the decision.
#include <benchmark/benchmark.h>

#include "bench/bench_fixtures.h"
#include "bench/static_view.h"
#include "webhook/decide.h"

namespace bgpcomm::bench {
namespace {

constexpr int kAliases = 10000;

std::string Review() {
  std::string communities;
  community::Advertisement advertisement = AdvertisementOf(10, kAliases);
  for (const auto& entry : advertisement.communities) {
    communities += (communities.empty() ? "\"" : ",\"") + entry + "\"";
  }
  return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{)"
         R"("uid":"bench","kind":{"group":"metallb.io","version":"v1beta1","kind":"BGPAdvertisement"},)"
         R"("resource":{"group":"metallb.io","version":"v1beta1","resource":"bgpadvertisements"},)"
         R"("name":"advert-0","namespace":"metallb-system","operation":"CREATE",)"
         R"("userInfo":{"username":"admin"},"object":{"apiVersion":"metallb.io/v1beta1",)"
         R"("kind":"BGPAdvertisement","metadata":{"name":"advert-0","namespace":"metallb-system"},)"
         R"("spec":{"ipAddressPools":["production-pool"],"aggregationLength":32,"communities":[)" +
         communities + R"(]}},"oldObject":null,"dryRun":false}})";
}

void BM_Baseline_CodecOnly(benchmark::State& state) {
  std::string body = Review();
  for (auto _ : state) {
    auto request = webhook::DecodeReview(body);
    benchmark::DoNotOptimize(
        webhook::EncodeReview(webhook::AdmissionResponse::Allowed(request->uid)));
  }
}
BENCHMARK(BM_Baseline_CodecOnly);

void Decide(benchmark::State& state, webhook::Endpoint endpoint) {
  StaticView view(NamespaceWithAliases(kAliases));
  std::string body = Review();
  for (auto _ : state) {
    auto request = webhook::DecodeReview(body);
    auto response = webhook::Decide(endpoint, *request, view, {});
    if (!response.allowed) state.SkipWithError("the review was denied");
    benchmark::DoNotOptimize(webhook::EncodeReview(response));
  }
}

void BM_DecideValidate10Of10000(benchmark::State& state) {
  Decide(state, webhook::Endpoint::kValidateAdvertisement);
}
BENCHMARK(BM_DecideValidate10Of10000);

void BM_DecideMutate10Of10000(benchmark::State& state) {
  Decide(state, webhook::Endpoint::kMutateAdvertisement);
}
BENCHMARK(BM_DecideMutate10Of10000);

}  // namespace
}  // namespace bgpcomm::bench

BENCHMARK_MAIN();
