// Turns parsed YAML nodes into Documents: structure checks that keep later walks bounded,
// the line of every field, and the decoded community/objects.h struct with the field path
// of every wrongly typed field.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/document.h"
#include "manifest/yaml_tree.h"

namespace bgpcomm::manifest {

// Bounds on one YAML document. Kubernetes objects are shallow; the limits stop hostile
// input (deep nesting, alias bombs, self-referencing anchors) before anything recurses.
struct DecodeLimits {
  int max_depth = 64;                 // nesting of mappings and sequences
  std::size_t max_nodes = 1'000'000;  // nodes visited, aliases counted each time
};

// Checks that `node` stays within `limits`, that every mapping key is a scalar and that no
// mapping repeats a key. Records the line of every field path (relative to `node`) in
// `lines` when it is not null. A message on failure; `*error_line` (1-based) says where.
std::expected<void, std::string> CheckStructure(const YamlNode& node, const DecodeLimits& limits,
                                                FieldLines* lines, int* error_line);

// The 1-based line of a node, 0 when it has none (a node built in memory).
int LineOf(const YamlNode& node);

// The value of `key` in a mapping, or a null node without a position (also when `node` is
// no mapping).
const YamlNode& FieldOf(const YamlNode& node, std::string_view key);

// Decodes one object (a mapping with apiVersion and kind) from `file`. The node must have
// passed CheckStructure. Fails only when the node is not a Kubernetes object at all;
// wrongly typed fields of the judged kinds become Document::problems. Without
// `record_lines`, Document::field_lines stays empty (LineOf gives the object's line).
std::expected<Document, LoadError> DecodeObject(YamlNodePtr node, std::string_view file,
                                                const DecodeLimits& limits = {},
                                                bool record_lines = true);

// Decodes a core/v1 Service (metadata, spec, status) through its community/schema.h
// table. Fields outside the table are ignored; wrongly typed fields of the table are
// appended to `problems` with their paths. metadata.namespace is kept as written.
community::ServiceObject DecodeService(const YamlNode& object,
                                       std::vector<community::Diagnostic>& problems);

// A core/v1 Node's name and labels, through ObjectMeta's table.
community::NodeSummary DecodeNode(const YamlNode& object,
                                  std::vector<community::Diagnostic>& problems);

// True for apiVersion/kind pairs bgpcomm judges: metallb.io/v1beta1 Community,
// BGPAdvertisement, IPAddressPool, and BGPPeer in v1beta2 or v1beta1.
bool IsJudgedKind(std::string_view api_version, std::string_view kind);

}  // namespace bgpcomm::manifest
