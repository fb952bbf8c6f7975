#include "webhook/object_json.h"

#include <string>
#include <string_view>

namespace bgpcomm::webhook {
namespace {

using community::Diagnostics;
using rapidjson::Value;

std::string_view TypeName(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

// Field access over a JSON object that records type errors under a path prefix.
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

community::ObjectMeta DecodeMeta(const Fields& root) {
  Fields meta = root.Object("metadata");
  return {.name = meta.String("name"),
          .namespace_name = meta.String("namespace"),
          .labels = meta.StringMap("labels"),
          .annotations = meta.StringMap("annotations")};
}

std::vector<community::LabelSelector> DecodeSelectors(const Fields& spec, std::string_view key) {
  std::vector<community::LabelSelector> result;
  spec.Objects(key, [&](const Fields& f) {
    community::LabelSelector selector{.match_labels = f.StringMap("matchLabels")};
    f.Objects("matchExpressions", [&](const Fields& e) {
      selector.match_expressions.push_back(
          {.key = e.String("key"), .op = e.String("operator"), .values = e.Strings("values")});
    });
    result.push_back(std::move(selector));
  });
  return result;
}

}  // namespace

community::CommunityObject DecodeCommunity(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  community::CommunityObject result{.meta = DecodeMeta(root)};
  root.Object("spec").Objects("communities", [&](const Fields& f) {
    result.aliases.push_back({.name = f.String("name"), .value = f.String("value")});
  });
  return result;
}

community::Advertisement DecodeAdvertisement(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  return {.meta = DecodeMeta(root),
          .aggregation_length = spec.Integer("aggregationLength"),
          .aggregation_length_v6 = spec.Integer("aggregationLengthV6"),
          .local_pref = spec.Integer("localPref"),
          .communities = spec.Strings("communities"),
          .ip_address_pools = spec.Strings("ipAddressPools"),
          .ip_address_pool_selectors = DecodeSelectors(spec, "ipAddressPoolSelectors"),
          .node_selectors = DecodeSelectors(spec, "nodeSelectors"),
          .peers = spec.Strings("peers")};
}

community::AddressPool DecodePool(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  community::AddressPool result{.meta = DecodeMeta(root), .addresses = spec.Strings("addresses")};
  if (spec.Get("autoAssign") != nullptr) result.auto_assign = spec.Bool("autoAssign");
  return result;
}

community::Peer DecodePeer(const Value& object, Diagnostics& out) {
  Fields root(&object, "", out);
  Fields spec = root.Object("spec");
  community::Peer result{.meta = DecodeMeta(root),
                         .my_asn = spec.Integer("myASN"),
                         .peer_asn = spec.Integer("peerASN"),
                         .dynamic_asn = spec.String("dynamicASN"),
                         .peer_address = spec.String("peerAddress"),
                         .source_address = spec.String("sourceAddress"),
                         .peer_port = spec.Integer("peerPort"),
                         .hold_time = spec.String("holdTime"),
                         .keepalive_time = spec.String("keepaliveTime"),
                         .connect_time = spec.String("connectTime"),
                         .router_id = spec.String("routerID"),
                         .node_selectors = DecodeSelectors(spec, "nodeSelectors"),
                         .password = spec.String("password"),
                         .password_secret = {},
                         .ebgp_multihop = spec.Bool("ebgpMultiHop"),
                         .dual_stack_address_family = spec.Bool("dualStackAddressFamily"),
                         .disable_mp = spec.Bool("disableMP"),
                         .vrf = spec.String("vrf")};
  // passwordSecret is a SecretReference {name, namespace}.
  result.password_secret = spec.Object("passwordSecret").String("name");
  return result;
}

}  // namespace bgpcomm::webhook
