#include "community/label_selector.h"

#include <algorithm>
#include <string>

#include "community/value.h"

namespace bgpcomm::community {
namespace {

bool IsAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A label name or value: at most 63 characters, alphanumeric at both ends, '-', '_' and
// '.' inside (Kubernetes validation.IsValidLabelValue); empty only where `allow_empty`.
bool IsLabelToken(std::string_view text, bool allow_empty) {
  if (text.empty()) return allow_empty;
  if (text.size() > 63) return false;
  if (!IsAlphanumeric(text.front()) || !IsAlphanumeric(text.back())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return IsAlphanumeric(c) || c == '-' || c == '_' || c == '.'; });
}

// Kubernetes label keys: [prefix/]name (validation.IsQualifiedName).
bool IsLabelKey(std::string_view key) {
  std::size_t slash = key.find('/');
  if (slash == std::string_view::npos) return IsLabelToken(key, false);
  return IsDnsSubdomain(key.substr(0, slash)) && IsLabelToken(key.substr(slash + 1), false);
}

constexpr std::string_view kKeyRule =
    "is not a valid label key (an optional DNS subdomain prefix and '/', then at most 63 "
    "characters: alphanumerics, '-', '_' or '.', alphanumeric at both ends)";
constexpr std::string_view kValueRule =
    "is not a valid label value (at most 63 characters: alphanumerics, '-', '_' or '.', "
    "alphanumeric at both ends)";

}  // namespace

bool IsDnsSubdomain(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t dot = text.find('.', start);
    std::string_view part = text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (part.empty() || !lower_alnum(part.front()) || !lower_alnum(part.back())) return false;
    if (!std::all_of(part.begin(), part.end(), [&](char c) { return lower_alnum(c) || c == '-'; }))
      return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

bool Matches(const LabelSelector& selector, const std::map<std::string, std::string>& labels) {
  for (const auto& [key, value] : selector.match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& requirement : selector.match_expressions) {
    auto it = labels.find(requirement.key);
    bool present = it != labels.end();
    auto listed = [&] {
      return present && std::find(requirement.values.begin(), requirement.values.end(),
                                  it->second) != requirement.values.end();
    };
    if (requirement.op == "In") {
      if (!listed()) return false;
    } else if (requirement.op == "NotIn") {
      if (listed()) return false;
    } else if (requirement.op == "Exists") {
      if (!present) return false;
    } else if (requirement.op == "DoesNotExist") {
      if (present) return false;
    } else {
      return false;
    }
  }
  return true;
}

void ValidateSelector(const LabelSelector& selector, std::string_view field, Diagnostics& out) {
  const std::string base(field);
  for (const auto& [key, value] : selector.match_labels) {
    const std::string path = base + ".matchLabels";
    if (!IsLabelKey(key)) out.Error(path, "key " + Quote(key) + " " + std::string(kKeyRule));
    if (!IsLabelToken(value, true)) {
      out.Error(path,
                "value " + Quote(value) + " of key " + Quote(key) + " " + std::string(kValueRule));
    }
  }
  for (std::size_t i = 0; i < selector.match_expressions.size(); ++i) {
    const auto& requirement = selector.match_expressions[i];
    const std::string path = base + ".matchExpressions[" + std::to_string(i) + "]";
    if (!IsLabelKey(requirement.key)) {
      out.Error(path + ".key", "key " + Quote(requirement.key) + " " + std::string(kKeyRule));
    }
    const std::string& op = requirement.op;
    if (op == "In" || op == "NotIn") {
      if (requirement.values.empty()) {
        out.Error(path + ".values", "operator " + op + " needs at least one value");
      }
      for (std::size_t j = 0; j < requirement.values.size(); ++j) {
        if (!IsLabelToken(requirement.values[j], true)) {
          out.Error(path + ".values[" + std::to_string(j) + "]",
                    "value " + Quote(requirement.values[j]) + " " + std::string(kValueRule));
        }
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!requirement.values.empty()) {
        out.Error(path + ".values", "operator " + op + " takes no values");
      }
    } else {
      out.Error(path + ".operator",
                "operator " + Quote(op) + " is not one of In, NotIn, Exists, DoesNotExist");
    }
  }
}

}  // namespace bgpcomm::community
