#include "manifest/loader.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <system_error>
#include <utility>

#include "manifest/yaml_tree.h"

namespace bgpcomm::manifest {
namespace {

namespace fs = std::filesystem;

// The first byte that is not part of well-formed UTF-8 (no overlong forms, surrogates or
// values past U+10FFFF) or is a control character other than tab, LF and CR, with what is
// wrong with it; nullopt when the text is fine. Kubernetes reads UTF-8 JSON and its YAML
// reader refuses control characters. Checked here, before libyaml, to give the same message
// for every such byte.
std::optional<std::pair<std::size_t, std::string>> FindBadCharacter(std::string_view text) {
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    unsigned char c = byte(i);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        return std::pair{i, std::string("control character U+00") + kHex[c >> 4] + kHex[c & 0xf] +
                                " is not allowed"};
      }
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    }
    bool valid =
        length > 0 && i + length <= text.size() && byte(i + 1) >= low && byte(i + 1) <= high;
    for (std::size_t k = 2; valid && k < length; ++k) {
      valid = byte(i + k) >= 0x80 && byte(i + k) <= 0xbf;
    }
    if (!valid) return std::pair{i, std::string("not valid UTF-8")};
    i += length;
  }
  return std::nullopt;
}

bool IsManifestFile(const fs::path& path) {
  std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

bool IsList(const YamlNode& node) {
  if (!node.IsMapping()) return false;
  const YamlNode& kind = FieldOf(node, "kind");
  return kind.IsScalar() && kind.text().ends_with("List") && FieldOf(node, "items").IsSequence();
}

// Adds the objects of one parsed document to `set`.
void AddDocument(const YamlNodePtr& root, std::string_view file, ManifestSet& set,
                 const LoadOptions& options) {
  const YamlNode& node = *root;
  std::size_t source = options.keep_trees ? set.sources.size() : 0;
  auto add = [&](const YamlNodePtr& object) {
    // Field lines serve diagnostics of stored documents only.
    auto doc = DecodeObject(object, file, options.limits, options.keep_documents);
    if (!doc) {
      set.errors.push_back(std::move(doc.error()));
      return;
    }
    doc->source = source;
    if (options.on_object) options.on_object(*doc);
    if (!options.keep_documents) return;
    if (!options.keep_trees) doc->node = nullptr;
    set.documents.push_back(std::move(*doc));
  };
  // Check the whole document first: a List is walked once more per item below.
  int error_line = 0;
  if (auto checked = CheckStructure(node, options.limits, nullptr, &error_line); !checked) {
    set.errors.push_back(
        {std::string(file), error_line > 0 ? error_line : LineOf(node), checked.error()});
    return;
  }
  // Only checked documents become sources: they are written back by `bgpcomm resolve`.
  if (options.keep_trees) set.sources.push_back({std::string(file), LineOf(node), root});
  if (IsList(node)) {
    for (const YamlNodePtr& item : FieldOf(node, "items").items()) add(item);
  } else {
    add(root);
  }
}

}  // namespace

void LoadText(std::string_view text, std::string_view file, ManifestSet& set,
              const LoadOptions& options) {
  if (auto bad = FindBadCharacter(text)) {
    auto [at, what] = *bad;
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
    std::size_t line_start = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
    std::size_t column = line_start == std::string_view::npos ? at + 1 : at - line_start;
    set.errors.push_back(
        {std::string(file), line, what + " (column " + std::to_string(column) + ")"});
    return;
  }
  // A malformed stream loads nothing, as if every document were parsed before any is used;
  // documents are still decoded one at a time so that each tree can be dropped early.
  const std::size_t sources = set.sources.size();
  const std::size_t documents = set.documents.size();
  const std::size_t errors = set.errors.size();
  YamlStreamParser parser(text, {.max_nodes = options.limits.max_nodes});
  for (;;) {
    auto next = parser.Next();
    if (!next) {
      set.sources.resize(sources);
      set.documents.erase(set.documents.begin() + static_cast<std::ptrdiff_t>(documents),
                          set.documents.end());
      set.errors.resize(errors);
      set.errors.push_back({std::string(file), next.error().line, next.error().message});
      return;
    }
    if (!*next) return;
    if (!(**next)->IsNull()) AddDocument(**next, file, set, options);
  }
}

void LoadFile(const InputFile& input, ManifestSet& set, const LoadOptions& options) {
  std::error_code ec;
  auto status = fs::status(input.path, ec);
  if (ec || !fs::exists(status)) {
    set.errors.push_back({input.display, 0, "no such file or directory"});
    return;
  }
  if (fs::is_directory(status)) {
    set.errors.push_back({input.display, 0, "is a folder, expected a file"});
    return;
  }
  auto size = fs::file_size(input.path, ec);
  if (!ec && size > options.max_file_bytes) {
    set.errors.push_back(
        {input.display, 0,
         "file is larger than " + std::to_string(options.max_file_bytes) + " bytes"});
    return;
  }
  std::ifstream stream(input.path, std::ios::binary);
  if (!stream) {
    set.errors.push_back({input.display, 0, "cannot open file for reading"});
    return;
  }
  std::string text;
  text.reserve(ec ? 0 : size);
  char buffer[65536];
  while (stream.read(buffer, sizeof buffer) || stream.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(stream.gcount()));
    if (text.size() > options.max_file_bytes) {
      set.errors.push_back(
          {input.display, 0,
           "file is larger than " + std::to_string(options.max_file_bytes) + " bytes"});
      return;
    }
  }
  if (stream.bad()) {
    set.errors.push_back({input.display, 0, "read error"});
    return;
  }
  set.files.push_back(input.display);
  LoadText(text, input.display, set, options);
}

std::expected<std::vector<InputFile>, LoadError> ExpandPath(std::string_view path) {
  fs::path root{std::string(path)};
  std::error_code ec;
  auto status = fs::status(root, ec);
  if (ec || !fs::exists(status)) {
    return std::unexpected(LoadError{std::string(path), 0, "no such file or directory"});
  }
  if (!fs::is_directory(status)) return std::vector<InputFile>{{root, std::string(path)}};

  std::vector<fs::path> relative;
  fs::recursive_directory_iterator it(root, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;
    if (!it->is_regular_file(file_ec) || !IsManifestFile(it->path())) continue;
    relative.push_back(it->path().lexically_relative(root));
  }
  if (ec) {
    return std::unexpected(LoadError{std::string(path), 0, "cannot read folder: " + ec.message()});
  }
  std::sort(relative.begin(), relative.end(), [](const fs::path& a, const fs::path& b) {
    return a.generic_string() < b.generic_string();
  });
  std::vector<InputFile> out;
  out.reserve(relative.size());
  for (const fs::path& rel : relative) {
    out.push_back({root / rel, (root / rel).string()});
  }
  return out;
}

// Reads all of `input` as the file `display`, within the size limit.
void LoadStream(std::istream& input, std::string_view display, ManifestSet& set,
                const LoadOptions& options) {
  std::string text;
  char buffer[65536];
  while (input.read(buffer, sizeof buffer) || input.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(input.gcount()));
    if (text.size() > options.max_file_bytes) {
      set.errors.push_back({std::string(display), 0,
                            "input is larger than " + std::to_string(options.max_file_bytes) +
                                " bytes"});
      return;
    }
  }
  if (input.bad()) {
    set.errors.push_back({std::string(display), 0, "read error"});
    return;
  }
  set.files.push_back(std::string(display));
  LoadText(text, display, set, options);
}

ManifestSet LoadPaths(std::span<const std::string> paths, const LoadOptions& options) {
  ManifestSet set;
  for (const std::string& path : paths) {
    if (path == "-") {
      if (options.standard_input == nullptr) {
        set.errors.push_back({"<stdin>", 0, "standard input cannot be read here"});
      } else {
        LoadStream(*options.standard_input, "<stdin>", set, options);
      }
      continue;
    }
    auto files = ExpandPath(path);
    if (!files) {
      set.errors.push_back(std::move(files.error()));
      continue;
    }
    for (const InputFile& file : *files) LoadFile(file, set, options);
  }
  return set;
}

}  // namespace bgpcomm::manifest
