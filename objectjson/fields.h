// Field access over a RapidJSON object for the decoders of Kubernetes objects: missing or
// null fields read as empty, wrong types are reported into Diagnostics with their field path
// (`spec.aggregationLength: must be an integer, got string`), never thrown or asserted.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "community/diagnostic.h"
#include "community/objects.h"

namespace bgpcomm::objectjson {

using community::Diagnostics;
using rapidjson::Value;

// The JSON type of `v` as error messages name it.
inline std::string_view TypeName(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

// Reads the fields of one JSON object (`object` may be null or not an object: every field
// then reads as missing) and records type errors under `path`.
class Fields {
 public:
  Fields(const Value* object, std::string path, Diagnostics& out)
      : object_(object != nullptr && object->IsObject() ? object : nullptr),
        path_(std::move(path)),
        out_(out) {}

  std::string Path(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  const Value* Get(std::string_view key) const {
    if (object_ == nullptr) return nullptr;
    auto it = object_->FindMember(Value(rapidjson::StringRef(key.data(), key.size())));
    if (it == object_->MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }

  std::string String(std::string_view key) const {
    const Value* v = Get(key);
    if (v == nullptr) return {};
    if (!v->IsString()) {
      TypeError(Path(key), "a string", *v);
      return {};
    }
    return std::string(v->GetString(), v->GetStringLength());
  }

  std::optional<std::int64_t> Integer(std::string_view key) const {
    const Value* v = Get(key);
    if (v == nullptr) return std::nullopt;
    if (v->IsInt64()) return v->GetInt64();
    if (v->IsUint64()) return INT64_MAX;  // beyond every range the rules accept
    TypeError(Path(key), "an integer", *v);
    return std::nullopt;
  }

  bool Bool(std::string_view key) const {
    const Value* v = Get(key);
    if (v == nullptr) return false;
    if (!v->IsBool()) {
      TypeError(Path(key), "a boolean", *v);
      return false;
    }
    return v->GetBool();
  }

  std::vector<std::string> Strings(std::string_view key) const {
    std::vector<std::string> result;
    const Value* v = Get(key);
    if (v == nullptr) return result;
    if (!v->IsArray()) {
      TypeError(Path(key), "a list of strings", *v);
      return result;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
      const Value& item = (*v)[i];
      std::string item_path = Path(key) + "[" + std::to_string(i) + "]";
      if (!item.IsString()) {
        TypeError(item_path, "a string", item);
        result.emplace_back();
        continue;
      }
      result.emplace_back(item.GetString(), item.GetStringLength());
    }
    return result;
  }

  std::map<std::string, std::string> StringMap(std::string_view key) const {
    std::map<std::string, std::string> result;
    const Value* v = Get(key);
    if (v == nullptr) return result;
    if (!v->IsObject()) {
      TypeError(Path(key), "a map of strings", *v);
      return result;
    }
    for (const auto& m : v->GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      if (!m.value.IsString()) {
        TypeError(Path(key) + "." + name, "a string", m.value);
        continue;
      }
      result.emplace(std::move(name), std::string(m.value.GetString(), m.value.GetStringLength()));
    }
    return result;
  }

  // Visits each element of an array of objects as a Fields at `key[i]`.
  template <typename F>
  void Objects(std::string_view key, F&& visit) const {
    const Value* v = Get(key);
    if (v == nullptr) return;
    if (!v->IsArray()) {
      TypeError(Path(key), "a list", *v);
      return;
    }
    for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
      std::string item_path = Path(key) + "[" + std::to_string(i) + "]";
      if (!(*v)[i].IsObject()) {
        TypeError(item_path, "an object", (*v)[i]);
        continue;
      }
      visit(Fields(&(*v)[i], item_path, out_));
    }
  }

  Fields Object(std::string_view key) const {
    const Value* v = Get(key);
    if (v != nullptr && !v->IsObject()) TypeError(Path(key), "an object", *v);
    return Fields(v, Path(key), out_);
  }

 private:
  void TypeError(const std::string& path, std::string_view expected, const Value& got) const {
    out_.Error(path, "must be " + std::string(expected) + ", got " + std::string(TypeName(got)));
  }

  const Value* object_;
  std::string path_;
  Diagnostics& out_;
};

}  // namespace bgpcomm::objectjson
