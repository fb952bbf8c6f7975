// Problems found by the admission rules, each tied to a field path.
#pragma once

#include <string>
#include <vector>

namespace bgpcomm::community {

enum class Severity { kError, kWarning };

// One problem with one field. `field` is a path such as `spec.communities[0]`; it is
// `metadata.name` or the like for object-level problems, never empty.
struct Diagnostic {
  Severity severity = Severity::kError;
  std::string field;
  std::string message;

  // `field: message`, the form every rejection uses.
  std::string ToString() const { return field + ": " + message; }
  bool operator==(const Diagnostic&) const = default;
};

// All problems of one object, in the order they were found.
struct Diagnostics {
  std::vector<Diagnostic> items;

  void Error(std::string field, std::string message) {
    items.push_back({Severity::kError, std::move(field), std::move(message)});
  }
  void Warning(std::string field, std::string message) {
    items.push_back({Severity::kWarning, std::move(field), std::move(message)});
  }
  bool HasErrors() const {
    for (const auto& d : items)
      if (d.severity == Severity::kError) return true;
    return false;
  }
  std::vector<Diagnostic> Errors() const { return Filter(Severity::kError); }
  std::vector<Diagnostic> Warnings() const { return Filter(Severity::kWarning); }

 private:
  std::vector<Diagnostic> Filter(Severity s) const {
    std::vector<Diagnostic> out;
    for (const auto& d : items)
      if (d.severity == s) out.push_back(d);
    return out;
  }
};

}  // namespace bgpcomm::community
