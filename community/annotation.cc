#include "community/annotation.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bgpcomm::community {
namespace {

using Json = nlohmann::ordered_json;

std::expected<std::vector<std::string>, std::string> StringArray(const Json& object,
                                                                 std::string_view key,
                                                                 bool required) {
  auto it = object.find(std::string(key));
  if (it == object.end()) {
    if (required) return std::unexpected("missing key \"" + std::string(key) + "\"");
    return std::vector<std::string>{};
  }
  if (!it->is_array()) {
    return std::unexpected("\"" + std::string(key) + "\" is not an array of strings");
  }
  std::vector<std::string> out;
  for (const auto& item : *it) {
    if (!item.is_string()) {
      return std::unexpected("\"" + std::string(key) + "\" is not an array of strings");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// The resolution in the annotation, when it is present and readable.
std::optional<Resolution> StoredResolution(const Advertisement& advertisement) {
  auto it = advertisement.meta.annotations.find(std::string(kResolvedAnnotation));
  if (it == advertisement.meta.annotations.end()) return std::nullopt;
  auto decoded = DecodeAnnotation(it->second);
  if (!decoded) return std::nullopt;
  return *decoded;
}

}  // namespace

std::string EncodeAnnotation(const Resolution& resolution) {
  // Entries are nearly always printable ASCII (alias names and values): those are written
  // straight with RapidJSON's Writer, which escapes `"` and `\` as nlohmann does, so the
  // text is byte for byte the same. Anything else (control characters, UTF-8, invalid
  // bytes) goes through nlohmann, whose escapes and replacement of invalid UTF-8 stay the
  // annotation's format.
  auto printable = [](const std::vector<std::string>& entries) {
    return std::all_of(entries.begin(), entries.end(), [](const std::string& entry) {
      return std::all_of(entry.begin(), entry.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    });
  };
  if (printable(resolution.from) && printable(resolution.communities) &&
      printable(resolution.unresolved)) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    auto array = [&](const char* key, const std::vector<std::string>& entries) {
      writer.Key(key);
      writer.StartArray();
      for (const std::string& entry : entries) {
        writer.String(entry.data(), static_cast<rapidjson::SizeType>(entry.size()));
      }
      writer.EndArray();
    };
    writer.StartObject();
    array("from", resolution.from);
    array("communities", resolution.communities);
    if (!resolution.unresolved.empty()) array("unresolved", resolution.unresolved);
    writer.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  }
  Json json = Json::object();
  json["from"] = resolution.from;
  json["communities"] = resolution.communities;
  if (!resolution.unresolved.empty()) json["unresolved"] = resolution.unresolved;
  // Entries come from untrusted input: invalid UTF-8 is replaced rather than thrown on.
  return json.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

std::expected<Resolution, std::string> DecodeAnnotation(std::string_view text) {
  Json json = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return std::unexpected(std::string("not valid JSON"));
  if (!json.is_object()) return std::unexpected(std::string("not a JSON object"));
  for (const auto& [key, value] : json.items()) {
    if (key != "from" && key != "communities" && key != "unresolved") {
      return std::unexpected("unknown key " + Quote(key));
    }
  }
  Resolution resolution;
  auto from = StringArray(json, "from", true);
  if (!from) return std::unexpected(from.error());
  auto communities = StringArray(json, "communities", true);
  if (!communities) return std::unexpected(communities.error());
  auto unresolved = StringArray(json, "unresolved", false);
  if (!unresolved) return std::unexpected(unresolved.error());
  for (std::size_t i = 0; i < communities->size(); ++i) {
    const std::string& value = (*communities)[i];
    auto parsed = ParseLiteral(value);
    if (!parsed) {
      return std::unexpected("communities[" + std::to_string(i) + "]: " + parsed.error());
    }
    if (!parsed->canonical) {
      return std::unexpected("communities[" + std::to_string(i) + "]: " + Quote(value) +
                             " is not canonical");
    }
  }
  resolution.from = std::move(*from);
  resolution.communities = std::move(*communities);
  resolution.unresolved = std::move(*unresolved);
  return resolution;
}

StoredCommunities ComputeStored(const Advertisement& submitted, const Advertisement* old,
                                const AliasTable& aliases, UnresolvedPolicy policy, ExpandMode mode,
                                Diagnostics& out) {
  std::vector<std::string> entries = submitted.communities;
  if (mode == ExpandMode::kInPlace) {
    // A read-modify-write of an expanded object sends the canonical values back: the
    // entries the user wrote are still those of `from`.
    for (const Advertisement* source : {&submitted, old}) {
      if (source == nullptr) continue;
      auto stored = StoredResolution(*source);
      if (stored && stored->communities == submitted.communities) {
        entries = stored->from;
        break;
      }
    }
  }
  StoredCommunities result;
  result.resolution =
      Resolve(entries, aliases, policy, "spec.communities", out, submitted.meta.namespace_name);
  if (mode == ExpandMode::kInPlace) {
    for (const std::string& entry : entries) {
      auto value = ResolveEntry(entry, aliases);
      std::string text = value ? Format(*value) : entry;
      if (std::find(result.spec_communities.begin(), result.spec_communities.end(), text) ==
          result.spec_communities.end()) {
        result.spec_communities.push_back(std::move(text));
      }
    }
  } else {
    result.spec_communities = submitted.communities;
  }
  return result;
}

std::vector<std::string> ReferencedEntries(const Advertisement& advertisement) {
  auto stored = StoredResolution(advertisement);
  if (stored && stored->communities == advertisement.communities) return stored->from;
  return advertisement.communities;
}

std::string_view RefusalKindName(RefusalKind kind) {
  switch (kind) {
    case RefusalKind::kMissing:
      return "missing";
    case RefusalKind::kUnreadable:
      return "unreadable";
    case RefusalKind::kStale:
      return "stale";
    case RefusalKind::kUnresolved:
      return "unresolved";
    case RefusalKind::kInvalid:
      return "invalid";
  }
  return "invalid";
}

std::expected<std::vector<CommunityValue>, Refusal> AnnouncedCommunities(
    const Advertisement& advertisement) {
  auto refuse = [](RefusalKind kind, std::string message) {
    return std::unexpected(Refusal{kind, std::move(message)});
  };
  auto it = advertisement.meta.annotations.find(std::string(kResolvedAnnotation));
  if (it == advertisement.meta.annotations.end()) {
    return refuse(RefusalKind::kMissing,
                  "annotation " + std::string(kResolvedAnnotation) + " is missing");
  }
  auto decoded = DecodeAnnotation(it->second);
  if (!decoded) {
    return refuse(RefusalKind::kUnreadable, "annotation " + std::string(kResolvedAnnotation) +
                                                " is unreadable: " + decoded.error());
  }
  if (advertisement.communities != decoded->from &&
      advertisement.communities != decoded->communities) {
    return refuse(RefusalKind::kStale,
                  "annotation " + std::string(kResolvedAnnotation) +
                      " is stale: spec.communities equals neither its \"from\" nor its "
                      "\"communities\"");
  }
  if (!decoded->unresolved.empty()) {
    std::string names;
    for (const auto& name : decoded->unresolved) {
      if (!names.empty()) names += ", ";
      names += Quote(name);
    }
    return refuse(RefusalKind::kUnresolved, "unresolved entries: " + names);
  }
  std::vector<CommunityValue> values;
  for (const auto& text : decoded->communities) {
    auto parsed = ParseLiteral(text);
    // DecodeAnnotation checked them
    if (!parsed) return refuse(RefusalKind::kUnreadable, parsed.error());
    values.push_back(parsed->value);
  }
  return values;
}

}  // namespace bgpcomm::community
