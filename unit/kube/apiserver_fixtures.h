// JSON the way kube-apiserver answers, for replay by test servers.
#pragma once

#include <string>

#include "kube/resource.h"

namespace bgpcomm::kube::testing {

// The custom resources these tests read and write (kube/ itself knows none).
inline const Resource kCommunities{"metallb.io", "v1beta1", "communities", "Community"};
inline const Resource kBGPAdvertisements{"metallb.io", "v1beta1", "bgpadvertisements",
                                         "BGPAdvertisement"};
inline const Resource kBGPPeers{"metallb.io", "v1beta2", "bgppeers", "BGPPeer"};

inline std::string CommunityJson(const std::string& name, const std::string& rv,
                                 const std::string& value = "64512:100") {
  return R"({"apiVersion":"metallb.io/v1beta1","kind":"Community","metadata":{"creationTimestamp":"2026-11-25T22:14:03Z","generation":1,"name":")" +
         name + R"(","namespace":"metallb-system","resourceVersion":")" + rv +
         R"(","uid":"6f1c2b0e-)" + name +
         R"("},"spec":{"communities":[{"name":"primary-route","value":")" + value + R"("}]}})";
}

inline std::string CommunityListJson(const std::string& rv, const std::string& items,
                                     const std::string& continue_token = "", int remaining = 0) {
  std::string meta = R"("resourceVersion":")" + rv + R"(")";
  if (!continue_token.empty())
    meta += R"(,"continue":")" + continue_token + R"(","remainingItemCount":)" +
            std::to_string(remaining);
  return R"({"apiVersion":"metallb.io/v1beta1","items":[)" + items +
         R"(],"kind":"CommunityList","metadata":{)" + meta + "}}";
}

inline std::string StatusJson(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" +
         message + R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

inline std::string NotFoundJson(const std::string& name) {
  return StatusJson(404, "NotFound", "communities.metallb.io \\\"" + name + "\\\" not found");
}

inline std::string GoneJson(const std::string& rv) {
  return StatusJson(410, "Expired", "too old resource version: " + rv + " (4242)");
}

inline std::string WatchEventLine(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}\n";
}

inline std::string BookmarkLine(const std::string& rv) {
  return WatchEventLine(
      "BOOKMARK",
      R"({"kind":"Community","apiVersion":"metallb.io/v1beta1","metadata":{"resourceVersion":")" +
          rv +
          R"(","creationTimestamp":null,"annotations":{"k8s.io/initial-events-end":"true"}},"spec":{}})");
}

inline std::string ErrorEventLine(int code, const std::string& reason, const std::string& message) {
  return WatchEventLine("ERROR", StatusJson(code, reason, message));
}

}  // namespace bgpcomm::kube::testing
