#include "objectjson/metallb.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "community/schema.h"
#include "objectjson/fields.h"

namespace bgpcomm::objectjson {
namespace {

using community::ChildPath;
using community::IndexPath;

// Reads the members of the community/schema.h tables from RapidJSON values. Null values
// count as absent.
class Reader {
 public:
  explicit Reader(Diagnostics& out) : out_(out) {}

  // Decodes the JSON object `value` into `object` through its field table.
  template <typename T>
  void ReadObject(const Value& value, const std::string& path, T& object) {
    if (value.IsNull()) return;
    if (!value.IsObject()) {
      TypeError(path, "an object", value);
      return;
    }
    for (const auto& member : value.GetObject()) {
      std::string_view key(member.name.GetString(), member.name.GetStringLength());
      community::ReadField(object, key, [&](auto& field) {
        Read(member.value, ChildPath(path, key), field);
      });
    }
  }

  void Read(const Value& v, const std::string& path, std::string& out) {
    if (auto text = String(v, path)) out = std::move(*text);
  }
  void Read(const Value& v, const std::string& path, std::optional<std::string>& out) {
    if (auto text = String(v, path)) out = std::move(*text);
  }
  void Read(const Value& v, const std::string& path, std::optional<std::int64_t>& out) {
    if (v.IsNull()) return;
    if (v.IsInt64()) {
      out = v.GetInt64();
    } else if (v.IsUint64()) {
      out = INT64_MAX;  // beyond every range the rules accept
    } else {
      TypeError(path, "an integer", v);
    }
  }
  void Read(const Value& v, const std::string& path, bool& out) {
    if (auto value = Bool(v, path)) out = *value;
  }
  void Read(const Value& v, const std::string& path, std::optional<bool>& out) {
    if (auto value = Bool(v, path)) out = value;
  }
  // A wrongly typed item keeps its place (as "") so that later paths `path[i]` still
  // point at the item written.
  void Read(const Value& v, const std::string& path, std::vector<std::string>& out) {
    if (!IsList(v, path, "a list of strings")) return;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      out.push_back(String(v[i], IndexPath(path, i)).value_or(""));
    }
  }
  void Read(const Value& v, const std::string& path, std::map<std::string, std::string>& out) {
    if (v.IsNull()) return;
    if (!v.IsObject()) {
      TypeError(path, "a map of strings", v);
      return;
    }
    for (const auto& member : v.GetObject()) {
      std::string name(member.name.GetString(), member.name.GetStringLength());
      if (auto text = String(member.value, ChildPath(path, name))) {
        out.emplace(std::move(name), std::move(*text));
      }
    }
  }
  template <typename T>
  void Read(const Value& v, const std::string& path, T& out) {
    ReadObject(v, path, out);
  }
  template <typename T>
  void Read(const Value& v, const std::string& path, std::optional<T>& out) {
    if (v.IsNull()) return;
    ReadObject(v, path, out.emplace());
  }
  template <typename T>
  void Read(const Value& v, const std::string& path, std::vector<T>& out) {
    if (!IsList(v, path, "a list")) return;
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      ReadObject(v[i], IndexPath(path, i), out.emplace_back());
    }
  }

 private:
  bool IsList(const Value& v, const std::string& path, std::string_view expected) {
    if (v.IsNull()) return false;
    if (!v.IsArray()) {
      TypeError(path, expected, v);
      return false;
    }
    return true;
  }
  std::optional<std::string> String(const Value& v, const std::string& path) {
    if (v.IsNull()) return std::nullopt;
    if (!v.IsString()) {
      TypeError(path, "a string", v);
      return std::nullopt;
    }
    return std::string(v.GetString(), v.GetStringLength());
  }
  std::optional<bool> Bool(const Value& v, const std::string& path) {
    if (v.IsNull()) return std::nullopt;
    if (!v.IsBool()) {
      TypeError(path, "a boolean", v);
      return std::nullopt;
    }
    return v.GetBool();
  }
  void TypeError(const std::string& path, std::string_view expected, const Value& got) {
    out_.Error(path, "must be " + std::string(expected) + ", got " + std::string(TypeName(got)));
  }

  Diagnostics& out_;
};

// metadata and spec of a kind with a field table.
template <typename T>
T DecodeKind(const Value& object, Diagnostics& out) {
  T result;
  if (!object.IsObject()) return result;
  Reader reader(out);
  if (auto metadata = object.FindMember("metadata"); metadata != object.MemberEnd()) {
    reader.ReadObject(metadata->value, "metadata", result.meta);
  }
  if (auto spec = object.FindMember("spec"); spec != object.MemberEnd()) {
    reader.ReadObject(spec->value, "spec", result);
  }
  return result;
}

}  // namespace

community::ObjectMeta DecodeMeta(const Value& object, Diagnostics& out) {
  community::ObjectMeta meta;
  if (!object.IsObject()) return meta;
  if (auto metadata = object.FindMember("metadata"); metadata != object.MemberEnd()) {
    Reader(out).ReadObject(metadata->value, "metadata", meta);
  }
  return meta;
}

community::CommunityObject DecodeCommunity(const Value& object, Diagnostics& out) {
  return DecodeKind<community::CommunityObject>(object, out);
}

community::Advertisement DecodeAdvertisement(const Value& object, Diagnostics& out) {
  return DecodeKind<community::Advertisement>(object, out);
}

community::AddressPool DecodePool(const Value& object, Diagnostics& out) {
  return DecodeKind<community::AddressPool>(object, out);
}

community::Peer DecodePeer(const Value& object, Diagnostics& out) {
  return DecodeKind<community::Peer>(object, out);
}

community::ServiceObject DecodeService(const Value& object, Diagnostics& out) {
  community::ServiceObject result = DecodeKind<community::ServiceObject>(object, out);
  if (!object.IsObject()) return result;
  if (auto status = object.FindMember("status"); status != object.MemberEnd()) {
    Reader reader(out);
    reader.ReadObject(status->value, "status", result.status);
  }
  return result;
}

community::BfdProfile DecodeBfdProfile(const Value& object, Diagnostics& out) {
  return DecodeKind<community::BfdProfile>(object, out);
}

}  // namespace bgpcomm::objectjson
