// How YAML scalars reach the API server after YAML -> JSON conversion (YAML 1.1 rules as
// sigs.k8s.io/yaml applies them): quoted scalars are strings; plain ones may be numbers,
// booleans or null.
#pragma once

#include <string_view>

#include "manifest/yaml_tree.h"

namespace bgpcomm::manifest {

enum class ScalarType { kNull, kBool, kInteger, kFloat, kString };

// The type of a parsed node that is null or a scalar: explicit tags decide (!!str, !!int,
// !!bool, !!float; any other tag, "!" included, makes a string), then quoting (a quoted
// scalar is a string), then the plain text.
ScalarType Classify(const YamlNode& node);

// YAML 1.1 booleans (true, yes, on, y ... and their negations, in three casings).
bool IsYamlBool(std::string_view text);
// The YAML 1.1 booleans that mean true.
bool IsTrueWord(std::string_view text);
// [-+]?[0-9]+
bool IsDecimalInteger(std::string_view text);
// 0x followed by hex digits.
bool IsHexInteger(std::string_view text);
// Floats in YAML 1.1 notation, .inf and .nan.
bool IsYamlFloat(std::string_view text);

// True when `plain`, written unquoted, is read back as the same string by YAML 1.1 and 1.2
// readers: not null, boolean or numeric, and no ':' (YAML 1.1 base-60 numbers).
bool ReadsAsString(std::string_view plain);

}  // namespace bgpcomm::manifest
