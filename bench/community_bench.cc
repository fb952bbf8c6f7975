// Resolution and lint throughput of the community core (issue targets: under 5 µs per
// advertisement resolution against 10,000 aliases; lint of 1,000 advertisements under
// 100 ms). Each figure has a baseline measured in the same run:
//   - BM_Baseline_HashLookups: the 10 hash-map lookups any resolution must make;
//   - BM_Baseline_YamlParse: yaml-cpp parsing the same manifests, nothing else.
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include <unordered_map>

#include "bench/bench_fixtures.h"
#include "cli/set_check.h"
#include "community/admission.h"
#include "manifest/loader.h"

namespace bgpcomm::bench {
namespace {

constexpr int kAliases = 10000;
constexpr int kEntries = 10;

void BM_Baseline_HashLookups(benchmark::State& state) {
  std::unordered_map<std::string, std::string> table;
  for (int i = 0; i < kAliases; ++i) table.emplace(AliasName(i), "64512:" + std::to_string(i));
  community::Advertisement advertisement = AdvertisementOf(kEntries, kAliases);
  for (auto _ : state) {
    for (const auto& entry : advertisement.communities) {
      benchmark::DoNotOptimize(table.find(entry));
    }
  }
}
BENCHMARK(BM_Baseline_HashLookups);

void BM_Resolve10Of10000(benchmark::State& state) {
  community::NamespaceObjects objects = NamespaceWithAliases(kAliases);
  community::AliasTable aliases = community::AliasTable::Build(objects.communities);
  community::Advertisement advertisement = AdvertisementOf(kEntries, kAliases);
  for (auto _ : state) {
    community::Diagnostics diagnostics;
    benchmark::DoNotOptimize(community::Resolve(advertisement.communities, aliases,
                                                community::UnresolvedPolicy::kReject,
                                                "spec.communities", diagnostics));
  }
}
BENCHMARK(BM_Resolve10Of10000);

// The whole BGPAdvertisement rule set: resolution, pools, peers, overlaps, and what to store.
void BM_ValidateAdvertisement10Of10000(benchmark::State& state) {
  community::NamespaceObjects objects = NamespaceWithAliases(kAliases);
  community::AliasTable aliases = community::AliasTable::Build(objects.communities);
  community::Advertisement advertisement = AdvertisementOf(kEntries, kAliases);
  community::NamespaceContext context{objects, aliases};
  for (auto _ : state) {
    benchmark::DoNotOptimize(community::ValidateAdvertisement(advertisement, nullptr, context, {}));
  }
}
BENCHMARK(BM_ValidateAdvertisement10Of10000);

// Lint input: 100 aliases and 1,000 advertisements of 3 entries, each for its own rack
// (nodeSelectors), the shape of a large real configuration.
constexpr int kLintAliases = 100;
constexpr int kLintAdvertisements = 1000;
constexpr int kLintEntries = 3;

void BM_Baseline_YamlParse1000Advertisements(benchmark::State& state) {
  std::string text = ManifestText(kLintAliases, kLintAdvertisements, kLintEntries);
  for (auto _ : state) benchmark::DoNotOptimize(YAML::LoadAll(text));
}
BENCHMARK(BM_Baseline_YamlParse1000Advertisements)->Unit(benchmark::kMillisecond);

// `bgpcomm lint` minus file reading and printing: load, decode, judge as one set.
void BM_Lint1000Advertisements(benchmark::State& state) {
  std::string text = ManifestText(kLintAliases, kLintAdvertisements, kLintEntries);
  community::AdmissionOptions options;
  std::size_t findings = 0;
  for (auto _ : state) {
    manifest::ManifestSet set;
    manifest::LoadText(text, "bench.yaml", set);
    cli::NamespaceStates namespaces = cli::BuildNamespaces(set, options.configured_namespace);
    cli::SetJudgment judgment = cli::JudgeSet(set, namespaces, options);
    findings = judgment.findings.size();
    if (judgment.errors != 0) state.SkipWithError("the generated manifests have errors");
  }
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_Lint1000Advertisements)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bgpcomm::bench

BENCHMARK_MAIN();
