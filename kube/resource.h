// Kubernetes resource types and the objects the client hands out.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace bgpcomm::kube {

// One URL path segment with every byte outside RFC 3986's unreserved set
// percent-encoded, and a segment of only dots (".", "..") encoded whole, so that a name
// from an object (a BGPPeer's passwordSecret, say) can never add a segment, a query or
// a header line to a request: `a/../b?x` becomes `a%2F..%2Fb%3Fx`.
inline std::string EscapePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  bool only_dots = !segment.empty() && segment.find_first_not_of('.') == std::string_view::npos;
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '~' || (c == '.' && !only_dots);
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

// One REST resource type, e.g. metallb.io/v1beta1 communities.
struct Resource {
  std::string group;  // empty for the core group
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;

  // `v1` for the core group, `group/version` otherwise.
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // The collection URL path: `/api/v1/namespaces/NS/pods`, `/apis/G/V/namespaces/NS/R`;
  // without a namespace (or for cluster-scoped types) the cluster-wide collection.
  std::string CollectionPath(std::string_view ns) const {
    std::string path = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
    if (namespaced && !ns.empty()) path += "/namespaces/" + EscapePathSegment(ns);
    return path + "/" + plural;
  }
  // The URL path of one object; the namespace and the name are escaped.
  std::string ObjectPath(std::string_view ns, std::string_view name) const {
    return CollectionPath(ns) + "/" + EscapePathSegment(name);
  }
  bool operator==(const Resource&) const = default;
};

// The core and built-in types the client itself or every controller needs; callers define
// their own (custom) resources next to the code that reads them.
namespace resources {
inline const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease"};
inline const Resource kEvents{"", "v1", "events", "Event"};
inline const Resource kServices{"", "v1", "services", "Service"};
inline const Resource kSecrets{"", "v1", "secrets", "Secret"};
inline const Resource kNodes{"", "v1", "nodes", "Node", /*namespaced=*/false};
inline const Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice"};
}  // namespace resources

// An object as the apiserver served it: its identity plus what the caller's decoder made
// of its JSON (see Decoder in kube/client.h), so that each object is decoded once, when
// it arrives, into the form its consumer keeps.
struct Object {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string resource_version;
  // The decoder's result; null when no decoder was given or it returned null.
  std::shared_ptr<const void> decoded;

  // `namespace/name`, or `name` for cluster-scoped objects.
  std::string Key() const { return namespace_name.empty() ? name : namespace_name + "/" + name; }
  // The decoded form as the type the decoder made (the caller knows it: one decoder per
  // informer); null when there is none.
  template <typename T>
  std::shared_ptr<const T> As() const {
    return std::static_pointer_cast<const T>(decoded);
  }
};

using ObjectPtr = std::shared_ptr<const Object>;

}  // namespace bgpcomm::kube
