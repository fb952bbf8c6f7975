#include "webhook/json_patch.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace bgpcomm::webhook {
namespace {

const rapidjson::Value* Member(const rapidjson::Value* object, const char* key) {
  if (object == nullptr || !object->IsObject()) return nullptr;
  auto it = object->FindMember(key);
  return it == object->MemberEnd() ? nullptr : &it->value;
}

bool SameStrings(const rapidjson::Value* list, const std::vector<std::string>& values) {
  if (list == nullptr || list->IsNull()) return values.empty();
  if (!list->IsArray() || list->Size() != values.size()) return false;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const auto& v = (*list)[i];
    if (!v.IsString() || std::string_view(v.GetString(), v.GetStringLength()) != values[i]) {
      return false;
    }
  }
  return true;
}

// The patch for what is not right yet; `create_annotations` when metadata.annotations is
// absent (or null), so that the annotation (`annotation`, stored's encoded) is added with
// the map.
std::optional<std::string> BuildPatch(bool annotation_right, bool create_annotations,
                                      bool spec_right, const community::StoredCommunities& stored,
                                      std::string_view annotation) {
  if (annotation_right && spec_right) return std::nullopt;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&w](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartArray();
  if (!annotation_right) {
    w.StartObject();
    w.Key("op");
    w.String("add");
    if (create_annotations) {
      // No annotations map yet (or null): create it holding only ours.
      w.Key("path");
      w.String("/metadata/annotations");
      w.Key("value");
      w.StartObject();
      str(community::kResolvedAnnotation);
      str(annotation);
      w.EndObject();
    } else {
      // "add" on an existing member replaces it (RFC 6902 §4.1).
      w.Key("path");
      str("/metadata/annotations/" + EscapePointerToken(community::kResolvedAnnotation));
      w.Key("value");
      str(annotation);
    }
    w.EndObject();
  }
  if (!spec_right) {
    w.StartObject();
    w.Key("op");
    w.String("add");  // add also creates spec.communities when it was absent
    w.Key("path");
    w.String("/spec/communities");
    w.Key("value");
    w.StartArray();
    for (const auto& value : stored.spec_communities) str(value);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> ResolutionPatch(const rapidjson::Value& object,
                                           const community::StoredCommunities& stored,
                                           bool replace_spec) {
  const rapidjson::Value* metadata = Member(&object, "metadata");
  const rapidjson::Value* annotations = Member(metadata, "annotations");
  const rapidjson::Value* current = Member(annotations, community::kResolvedAnnotation.data());
  const std::string annotation = stored.Annotation();
  bool annotation_right =
      current != nullptr && current->IsString() &&
      std::string_view(current->GetString(), current->GetStringLength()) == annotation;
  const rapidjson::Value* spec_communities = Member(Member(&object, "spec"), "communities");
  bool spec_right = !replace_spec || SameStrings(spec_communities, stored.spec_communities);
  return BuildPatch(annotation_right, annotations == nullptr || !annotations->IsObject(),
                    spec_right, stored, annotation);
}

std::optional<std::string> ResolutionPatch(const community::ObjectMeta& meta,
                                           const std::vector<std::string>& spec_communities,
                                           const community::StoredCommunities& stored,
                                           bool replace_spec) {
  const std::string annotation = stored.Annotation();
  auto current = meta.annotations.find(std::string(community::kResolvedAnnotation));
  bool annotation_right = current != meta.annotations.end() && current->second == annotation;
  bool spec_right = !replace_spec || spec_communities == stored.spec_communities;
  // An empty map is replaced whole: the same result whether it was absent or `{}`.
  return BuildPatch(annotation_right, meta.annotations.empty(), spec_right, stored, annotation);
}

}  // namespace bgpcomm::webhook
