#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "manifest/loader.h"
#include "manifest/scalar.h"
#include "manifest/yaml_tree.h"
#include "manifest/yaml_writer.h"

namespace {

// True when `a` and `b` reach the API server as the same JSON: same shape, same key order,
// same scalar text and type (a plain string written back quoted is the same string).
bool SameContent(const bgpcomm::manifest::YamlNode& a, const bgpcomm::manifest::YamlNode& b) {
  if (a.kind() != b.kind() || a.size() != b.size()) return false;
  if (a.IsScalar()) {
    return a.text() == b.text() &&
           bgpcomm::manifest::Classify(a) == bgpcomm::manifest::Classify(b);
  }
  for (std::size_t i = 0; i < a.items().size(); ++i) {
    if (!SameContent(*a.items()[i], *b.items()[i])) return false;
  }
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    if (!SameContent(*a.entries()[i].key, *b.entries()[i].key) ||
        !SameContent(*a.entries()[i].value, *b.entries()[i].value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Any bytes given as a manifest file must load into documents or errors with a message,
// never a crash, an exception or unbounded work. Every document that loads is written back
// as `bgpcomm resolve` writes it; that text must load again without errors into the same
// content, and writing that again must give the same text.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bgpcomm::manifest::LoadOptions options;
  options.limits.max_nodes = 20000;
  bgpcomm::manifest::ManifestSet set;
  bgpcomm::manifest::LoadText(text, "fuzz.yaml", set, options);
  for (const auto& error : set.errors) {
    if (error.message.empty() || error.file != "fuzz.yaml") __builtin_trap();
  }
  for (const auto& doc : set.documents) {
    for (const auto& problem : doc.problems) {
      if (problem.field.empty() || problem.message.empty()) __builtin_trap();
      (void)doc.LineOf(problem.field);
    }
  }
  if (!set.ok()) return 0;

  for (const auto& source : set.sources) {
    auto written = bgpcomm::manifest::WriteYaml(*source.node);
    if (!written) continue;  // the emitter refused; resolve reports it
    bgpcomm::manifest::ManifestSet again;
    bgpcomm::manifest::LoadText(*written, "again.yaml", again, options);
    if (!again.ok() || again.sources.size() != 1) __builtin_trap();
    if (!SameContent(*source.node, *again.sources[0].node)) __builtin_trap();
    auto rewritten = bgpcomm::manifest::WriteYaml(*again.sources[0].node);
    if (!rewritten) __builtin_trap();
    auto reparsed = bgpcomm::manifest::ParseYamlStream(*rewritten);
    if (!reparsed || reparsed->size() != 1) __builtin_trap();
    auto third = bgpcomm::manifest::WriteYaml(*reparsed->front());
    if (!third || *third != *rewritten) __builtin_trap();
  }
  return 0;
}
