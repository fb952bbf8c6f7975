#include "manifest/scalar.h"

#include <cctype>
#include <set>

namespace bgpcomm::manifest {

bool IsYamlBool(std::string_view s) {
  static const std::set<std::string_view> kWords = {
      "y", "Y", "yes", "Yes", "YES", "on",  "On",  "ON",  "true",  "True",  "TRUE",
      "n", "N", "no",  "No",  "NO",  "off", "Off", "OFF", "false", "False", "FALSE"};
  return kWords.contains(s);
}
bool IsTrueWord(std::string_view s) {
  return s == "y" || s == "Y" || s == "yes" || s == "Yes" || s == "YES" || s == "on" || s == "On" ||
         s == "ON" || s == "true" || s == "True" || s == "TRUE";
}

bool IsDecimalInteger(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool IsYamlFloat(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "-.inf" || s == "+.inf" || s == ".nan" ||
      s == ".NaN" || s == ".NAN")
    return true;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  std::size_t i = 0, digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

bool IsHexInteger(std::string_view s) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
  for (char c : s.substr(2))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

ScalarType Classify(const YamlNode& node) {
  if (node.IsNull()) return ScalarType::kNull;
  const std::string& tag = node.tag();
  if (tag == "tag:yaml.org,2002:int") return ScalarType::kInteger;
  if (tag == "tag:yaml.org,2002:bool") return ScalarType::kBool;
  if (tag == "tag:yaml.org,2002:float") return ScalarType::kFloat;
  if (!tag.empty() || node.quoted()) return ScalarType::kString;
  const std::string& text = node.text();
  if (IsYamlBool(text)) return ScalarType::kBool;
  if (IsDecimalInteger(text) || IsHexInteger(text)) return ScalarType::kInteger;
  if (IsYamlFloat(text)) return ScalarType::kFloat;
  return ScalarType::kString;
}

bool ReadsAsString(std::string_view plain) {
  if (plain.empty() || plain == "~" || plain == "null" || plain == "Null" || plain == "NULL") {
    return false;
  }
  return !IsYamlBool(plain) && !IsDecimalInteger(plain) && !IsHexInteger(plain) &&
         !IsYamlFloat(plain) && plain.find(':') == std::string_view::npos;
}

}  // namespace bgpcomm::manifest
