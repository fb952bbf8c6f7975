#include "manifest/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <unordered_map>

namespace bgpcomm::manifest {

YamlNodePtr YamlNode::Null() { return std::make_shared<YamlNode>(); }

YamlNodePtr YamlNode::Scalar(std::string text, bool quoted) {
  auto node = std::make_shared<YamlNode>();
  node->kind_ = YamlKind::kScalar;
  node->text_ = std::move(text);
  node->quoted_ = quoted;
  return node;
}

YamlNodePtr YamlNode::Sequence() {
  auto node = std::make_shared<YamlNode>();
  node->kind_ = YamlKind::kSequence;
  return node;
}

YamlNodePtr YamlNode::Mapping() {
  auto node = std::make_shared<YamlNode>();
  node->kind_ = YamlKind::kMapping;
  return node;
}

const YamlNode* YamlNode::Find(std::string_view key) const {
  for (const YamlEntry& entry : entries_) {
    if (entry.key->IsScalar() && entry.key->text() == key) return entry.value.get();
  }
  return nullptr;
}

bool YamlNode::Append(YamlNodePtr item) {
  if (IsNull()) kind_ = YamlKind::kSequence;
  if (!IsSequence()) return false;
  items_.push_back(std::move(item));
  return true;
}

bool YamlNode::Set(std::string_view key, YamlNodePtr value) {
  if (IsNull()) kind_ = YamlKind::kMapping;
  if (!IsMapping()) return false;
  for (YamlEntry& entry : entries_) {
    if (entry.key->IsScalar() && entry.key->text() == key) {
      entry.value = std::move(value);
      return true;
    }
  }
  entries_.push_back({Scalar(std::string(key)), std::move(value)});
  return true;
}

YamlNode* YamlNode::Child(std::string_view key) {
  if (IsNull()) kind_ = YamlKind::kMapping;
  if (!IsMapping()) return nullptr;
  for (YamlEntry& entry : entries_) {
    if (entry.key->IsScalar() && entry.key->text() == key) return entry.value.get();
  }
  entries_.push_back({Scalar(std::string(key)), Null()});
  return entries_.back().value.get();
}

namespace {

// Owns one event filled by yaml_parser_parse.
class Event {
 public:
  Event() = default;
  ~Event() {
    if (filled_) yaml_event_delete(&event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // Parses the next event; false on a libyaml error (the parser holds it).
  bool Parse(yaml_parser_t& parser) {
    filled_ = yaml_parser_parse(&parser, &event_) != 0;
    return filled_;
  }
  const yaml_event_t& get() const { return event_; }

 private:
  yaml_event_t event_{};
  bool filled_ = false;
};

std::string Text(const yaml_char_t* text) {
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text));
}

// Plain scalars that YAML 1.1 (and sigs.k8s.io/yaml) read as null.
bool IsNullWord(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

YamlError ErrorAt(const yaml_mark_t& mark, std::string message) {
  int line = static_cast<int>(mark.line) + 1;
  int column = static_cast<int>(mark.column) + 1;
  return {line, column, "malformed YAML: " + message + " (column " + std::to_string(column) + ")"};
}

// libyaml's reader reports a byte offset, not a mark.
YamlError ReaderError(const yaml_parser_t& parser, std::string_view text) {
  std::size_t at = std::min(parser.problem_offset, text.size());
  int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  std::size_t line_start = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
  int column = static_cast<int>(line_start == std::string_view::npos ? at + 1 : at - line_start);
  std::string message = "malformed YAML: ";
  message += parser.problem != nullptr ? parser.problem : "unreadable input";
  if (parser.problem_value >= 0) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string code;
    for (unsigned value = static_cast<unsigned>(parser.problem_value); value != 0 || code.size() < 4;
         value >>= 4) {
      code.insert(code.begin(), kHex[value & 0xf]);
    }
    message += " (U+" + code + ")";
  }
  return {line, column, message + " (column " + std::to_string(column) + ")"};
}

YamlError ParserError(const yaml_parser_t& parser, std::string_view text) {
  switch (parser.error) {
    case YAML_MEMORY_ERROR:
      return {0, 0, "malformed YAML: out of memory while parsing"};
    case YAML_READER_ERROR:
      return ReaderError(parser, text);
    default:
      break;
  }
  std::string problem = parser.problem != nullptr ? parser.problem : "cannot parse";
  // libyaml's words for a second root value (`[a],`, `a: b` after `"x"`): implicit documents
  // may only start a stream, so more content must begin with `---`.
  if (problem == "did not find expected <document start>") {
    return ErrorAt(parser.problem_mark,
                   "unexpected content after the document's root value (start another "
                   "document with ---)");
  }
  YamlError error = ErrorAt(parser.problem_mark, problem);
  if (parser.context != nullptr) {
    error.message += ", ";
    error.message += parser.context;
    error.message += " that starts at line " + std::to_string(parser.context_mark.line + 1) +
                     ", column " + std::to_string(parser.context_mark.column + 1);
  }
  return error;
}

}  // namespace

// Turns the events of one document into a tree. Anchors are per document.
class YamlTreeBuilder {
 public:
  explicit YamlTreeBuilder(const YamlParseOptions& options) : options_(options) {}

  std::expected<void, YamlError> Add(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_ALIAS_EVENT:
        return AddAlias(event);
      case YAML_SCALAR_EVENT:
        return AddScalar(event);
      case YAML_SEQUENCE_START_EVENT:
        return StartCollection(event, YamlKind::kSequence, event.data.sequence_start.tag,
                               event.data.sequence_start.anchor);
      case YAML_MAPPING_START_EVENT:
        return StartCollection(event, YamlKind::kMapping, event.data.mapping_start.tag,
                               event.data.mapping_start.anchor);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        EndCollection();
        return {};
      default:
        return {};
    }
  }

  // The document's root; a null node when the document was empty.
  YamlNodePtr TakeRoot() { return root_ != nullptr ? std::move(root_) : YamlNode::Null(); }

 private:
  struct Frame {
    YamlNode* node;
    YamlNodePtr pending_key;  // a mapping key waiting for its value
    std::size_t nodes_before;
    std::string anchor;
  };
  struct Anchor {
    YamlNodePtr node;
    std::size_t nodes = 0;  // the node and everything below it, aliases expanded
    bool open = true;       // a collection whose end has not been read
  };

  static YamlNodePtr NewNode(const yaml_event_t& event, YamlKind kind, const yaml_char_t* tag) {
    auto node = std::make_shared<YamlNode>();
    node->kind_ = kind;
    node->tag_ = Text(tag);
    node->line_ = static_cast<int>(event.start_mark.line) + 1;
    node->column_ = static_cast<int>(event.start_mark.column) + 1;
    return node;
  }

  std::expected<void, YamlError> Count(const yaml_event_t& event, std::size_t nodes) {
    if (nodes > options_.max_nodes || nodes_ > options_.max_nodes - nodes) {
      YamlError error = ErrorAt(event.start_mark, "");
      error.message = "document has more than " + std::to_string(options_.max_nodes) +
                      " nodes (aliases counted each time they are used)";
      return std::unexpected(std::move(error));
    }
    nodes_ += nodes;
    return {};
  }

  void Attach(YamlNodePtr node) {
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& parent = stack_.back();
    if (parent.node->IsSequence()) {
      parent.node->items_.push_back(std::move(node));
    } else if (parent.pending_key == nullptr) {
      parent.pending_key = std::move(node);
    } else {
      parent.node->entries_.push_back({std::move(parent.pending_key), std::move(node)});
    }
  }

  std::expected<void, YamlError> AddAlias(const yaml_event_t& event) {
    std::string name = Text(event.data.alias.anchor);
    auto it = anchors_.find(name);
    if (it == anchors_.end()) {
      return std::unexpected(ErrorAt(event.start_mark, "alias *" + name + " has no anchor"));
    }
    if (it->second.open) {
      return std::unexpected(
          ErrorAt(event.start_mark, "alias *" + name + " refers to a node that contains it"));
    }
    if (auto counted = Count(event, it->second.nodes); !counted) return counted;
    Attach(it->second.node);
    return {};
  }

  std::expected<void, YamlError> AddScalar(const yaml_event_t& event) {
    const auto& scalar = event.data.scalar;
    bool plain = scalar.style == YAML_PLAIN_SCALAR_STYLE;
    std::string_view text(reinterpret_cast<const char*>(scalar.value), scalar.length);
    bool null = plain && scalar.tag == nullptr && IsNullWord(text);
    YamlNodePtr node = NewNode(event, null ? YamlKind::kNull : YamlKind::kScalar, scalar.tag);
    if (!null) {
      node->text_ = std::string(text);
      node->quoted_ = !plain;
    }
    if (auto counted = Count(event, 1); !counted) return counted;
    if (scalar.anchor != nullptr) anchors_[Text(scalar.anchor)] = {node, 1, false};
    Attach(std::move(node));
    return {};
  }

  std::expected<void, YamlError> StartCollection(const yaml_event_t& event, YamlKind kind,
                                                 const yaml_char_t* tag,
                                                 const yaml_char_t* anchor) {
    if (stack_.size() >= static_cast<std::size_t>(std::max(options_.max_depth, 0))) {
      return std::unexpected(ErrorAt(event.start_mark, "nesting too deep, more than " +
                                                           std::to_string(options_.max_depth) +
                                                           " levels"));
    }
    std::size_t before = nodes_;
    if (auto counted = Count(event, 1); !counted) return counted;
    YamlNodePtr node = NewNode(event, kind, tag);
    YamlNode* raw = node.get();
    std::string name = Text(anchor);
    if (anchor != nullptr) anchors_[name] = {node, 0, true};
    Attach(std::move(node));
    stack_.push_back({raw, nullptr, before, std::move(name)});
    return {};
  }

  void EndCollection() {
    if (stack_.empty()) return;
    Frame& frame = stack_.back();
    if (!frame.anchor.empty()) {
      // Only when the anchor still names this node (an inner node may have reused the name).
      auto it = anchors_.find(frame.anchor);
      if (it != anchors_.end() && it->second.node.get() == frame.node) {
        it->second.open = false;
        it->second.nodes = nodes_ - frame.nodes_before;
      }
    }
    stack_.pop_back();
  }

  const YamlParseOptions& options_;
  YamlNodePtr root_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, Anchor> anchors_;
  std::size_t nodes_ = 0;
};

class YamlStreamParser::Impl {
 public:
  Impl(std::string_view text, const YamlParseOptions& options) : text_(text), options_(options) {
    if (yaml_parser_initialize(&parser_) == 0) {
      error_ = YamlError{0, 0, "malformed YAML: out of memory while parsing"};
      return;
    }
    initialized_ = true;
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text_.data()),
                                 text_.size());
  }
  ~Impl() {
    if (initialized_) yaml_parser_delete(&parser_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  std::expected<std::optional<YamlNodePtr>, YamlError> Next() {
    if (error_) return std::unexpected(*error_);
    if (done_) return std::nullopt;
    YamlTreeBuilder builder(options_);
    for (;;) {
      Event event;
      if (!event.Parse(parser_)) {
        error_ = ParserError(parser_, text_);
        return std::unexpected(*error_);
      }
      switch (event.get().type) {
        case YAML_STREAM_END_EVENT:
          done_ = true;
          return std::nullopt;
        case YAML_DOCUMENT_END_EVENT:
          return builder.TakeRoot();
        default:
          if (auto added = builder.Add(event.get()); !added) {
            error_ = std::move(added.error());
            return std::unexpected(*error_);
          }
      }
    }
  }

 private:
  std::string_view text_;
  YamlParseOptions options_;
  yaml_parser_t parser_{};
  bool initialized_ = false;
  bool done_ = false;
  std::optional<YamlError> error_;
};

YamlStreamParser::YamlStreamParser(std::string_view text, const YamlParseOptions& options)
    : impl_(std::make_unique<Impl>(text, options)) {}

YamlStreamParser::~YamlStreamParser() = default;

std::expected<std::optional<YamlNodePtr>, YamlError> YamlStreamParser::Next() {
  return impl_->Next();
}

std::expected<std::vector<YamlNodePtr>, YamlError> ParseYamlStream(
    std::string_view text, const YamlParseOptions& options) {
  YamlStreamParser parser(text, options);
  std::vector<YamlNodePtr> documents;
  for (;;) {
    auto next = parser.Next();
    if (!next) return std::unexpected(std::move(next.error()));
    if (!*next) return documents;
    documents.push_back(std::move(**next));
  }
}

}  // namespace bgpcomm::manifest
