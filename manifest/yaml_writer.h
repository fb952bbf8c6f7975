// Writes parsed YAML back out in block style, keeping what a reader of the output must see:
// scalars quoted in the input stay quoted (a label value "123" stays a string), plain ones
// stay plain, key order is kept. Comments, anchors and the input's flow style are not kept.
// Emitting uses yaml-cpp's emitter (parsing is libyaml's, manifest/yaml_tree.h): its block
// style (sequences indented under their key) is what `bgpcomm resolve` has always printed.
#pragma once

#include <expected>
#include <span>
#include <string>

#include "manifest/yaml_tree.h"

namespace bgpcomm::manifest {

// One document as YAML text ending in a newline; a message when the emitter fails. The node
// must have passed CheckStructure (bounded depth, no self-reference).
std::expected<std::string, std::string> WriteYaml(const YamlNode& node);

// Several documents separated by `---` lines.
std::expected<std::string, std::string> WriteDocuments(std::span<const YamlNodePtr> nodes);

}  // namespace bgpcomm::manifest
