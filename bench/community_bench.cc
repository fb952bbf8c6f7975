// Resolution and lint throughput of the community core (issue targets: under 5 µs per
// advertisement resolution against 10,000 aliases; lint of 1,000 advertisements under
// 100 ms). Each figure has a baseline measured in the same run:
//   - BM_Baseline_HashLookups: the 10 hash-map lookups any resolution must make;
//   - BM_Baseline_YamlEvents: libyaml reading the same manifests as events, building
//     nothing (the floor of any loader built on it).
#include <benchmark/benchmark.h>
#include <yaml.h>

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

// A libyaml parser over `text`, deleted with its owner.
class EventParser {
 public:
  explicit EventParser(const std::string& text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_) {
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size());
    }
  }
  ~EventParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  EventParser(const EventParser&) = delete;
  EventParser& operator=(const EventParser&) = delete;

  // Reads every event, freeing each at once; the number read (0 on any error).
  std::size_t CountEvents() {
    std::size_t events = 0;
    for (bool more = ok_; more; ++events) {
      yaml_event_t event;
      if (yaml_parser_parse(&parser_, &event) == 0) return 0;
      more = event.type != YAML_STREAM_END_EVENT;
      yaml_event_delete(&event);
    }
    return events;
  }

 private:
  yaml_parser_t parser_{};
  bool ok_ = false;
};

void BM_Baseline_YamlEvents1000Advertisements(benchmark::State& state) {
  std::string text = ManifestText(kLintAliases, kLintAdvertisements, kLintEntries);
  std::size_t events = 0;
  for (auto _ : state) benchmark::DoNotOptimize(events = EventParser(text).CountEvents());
  state.counters["events"] = static_cast<double>(events);
}
BENCHMARK(BM_Baseline_YamlEvents1000Advertisements)->Unit(benchmark::kMillisecond);

// The manifest loader alone on the lint input: parse, build trees, decode.
void BM_Load1000Advertisements(benchmark::State& state) {
  std::string text = ManifestText(kLintAliases, kLintAdvertisements, kLintEntries);
  std::size_t documents = 0;
  for (auto _ : state) {
    manifest::ManifestSet set;
    manifest::LoadText(text, "bench.yaml", set);
    documents = set.documents.size();
    if (!set.ok()) state.SkipWithError("the generated manifests do not load");
  }
  state.counters["documents"] = static_cast<double>(documents);
}
BENCHMARK(BM_Load1000Advertisements)->Unit(benchmark::kMillisecond);

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
