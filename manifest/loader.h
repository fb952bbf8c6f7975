// Loads Kubernetes manifests (multi-document YAML or JSON) from memory, files and folders.
// Malformed input never throws: every problem becomes a LoadError with file and line.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <functional>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manifest/document.h"
#include "manifest/object_decoder.h"

namespace bgpcomm::manifest {

struct LoadOptions {
  DecodeLimits limits;
  std::size_t max_file_bytes = std::size_t{64} << 20;  // larger files are refused
  // True keeps the parsed trees: every document in ManifestSet::sources and each object's
  // tree in Document::node (what `bgpcomm resolve` writes back). False keeps only what was
  // decoded: sources stays empty, Document::node is null, and each document's tree is freed
  // once its objects are decoded, so that a large file never has all its trees in memory.
  bool keep_trees = true;
  // Called with every object as soon as it is decoded, with Document::node set even when
  // trees are not kept: for callers that read kinds bgpcomm does not decode. Also called
  // for objects of a file that later turns out malformed (whose objects are then dropped).
  std::function<void(const Document&)> on_object;
  // False: objects are only handed to on_object and never stored in
  // ManifestSet::documents (nor their field lines), for callers such as the speaker that
  // keep their own decoded form of a file of 100,000 objects.
  bool keep_documents = true;
  // Where the path "-" reads from (shown as `<stdin>` in messages); null: "-" is an error.
  std::istream* standard_input = nullptr;
};

// One input file: where to read it and the name to show for it.
struct InputFile {
  std::filesystem::path path;
  std::string display;  // the path as given, joined with the path inside a folder
  bool operator==(const InputFile&) const = default;
};

// Parses `text` (one or more YAML documents; JSON is YAML) as the content of `file` and
// appends its documents, the objects in them (`kind: *List` items expanded) and any errors
// to `set`. Empty documents are skipped.
void LoadText(std::string_view text, std::string_view file, ManifestSet& set,
              const LoadOptions& options = {});

// Reads `input` and loads it as LoadText does; an unreadable or oversized file is an error.
void LoadFile(const InputFile& input, ManifestSet& set, const LoadOptions& options = {});

// The files `path` stands for: the file itself, or for a folder every *.yaml, *.yml and
// *.json file below it (recursively), sorted by their path inside the folder. Fails when
// the path does not exist or a folder cannot be read.
std::expected<std::vector<InputFile>, LoadError> ExpandPath(std::string_view path);

// Expands and loads every path in order; "-" reads LoadOptions::standard_input. All errors are collected; objects of readable
// files are kept even when another file fails.
ManifestSet LoadPaths(std::span<const std::string> paths, const LoadOptions& options = {});

}  // namespace bgpcomm::manifest
