// Recorded AdmissionReview requests (unit/webhook/reviews/) and a view of the
// walkthrough's namespace for the webhook's unit tests.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "webhook/object_view.h"

namespace bgpcomm::webhook::testing {

inline std::string ReadReview(const std::string& name) {
  std::ifstream in(std::string(BGPCOMM_SOURCE_DIR) + "/unit/webhook/reviews/" + name);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The walkthrough: Community my-communities, pool production-pool, and (optionally)
// the two advertisements.
inline community::NamespaceObjects Walkthrough(bool with_advertisements) {
  community::NamespaceObjects objects{.namespace_name = "metallb-system"};
  objects.communities.push_back(
      {.meta = {.name = "my-communities", .namespace_name = "metallb-system"},
       .aliases = {{"primary-route", "64512:100"},
                   {"backup-route", "64512:200"},
                   {"blackhole", "64512:666"},
                   {"region-us-east", "large:64512:1:100"}}});
  objects.pools.push_back({.meta = {.name = "production-pool", .namespace_name = "metallb-system"},
                           .addresses = {"203.0.113.0/28"}});
  if (with_advertisements) {
    objects.advertisements.push_back(
        {.meta = {.name = "primary-advert", .namespace_name = "metallb-system"},
         .aggregation_length = 32,
         .communities = {"primary-route", "region-us-east"},
         .ip_address_pools = {"production-pool"}});
    objects.advertisements.push_back(
        {.meta = {.name = "backup-advert", .namespace_name = "metallb-system"},
         .aggregation_length = 32,
         .communities = {"backup-route"},
         .ip_address_pools = {"production-pool"}});
  }
  return objects;
}

// A view whose cache and API can be set apart: `cached` is what the informer holds,
// `api` what a read-through returns; an empty `api_error` means the API answers.
class FakeView : public ObjectView {
 public:
  std::shared_ptr<const NamespaceSnapshot> cached;
  std::shared_ptr<const NamespaceSnapshot> api;
  std::string api_error;
  mutable int read_throughs = 0;
  mutable std::thread::id read_through_thread;  // of the last read-through

  std::expected<std::shared_ptr<const NamespaceSnapshot>, std::string> Namespace(
      std::string_view, Freshness freshness) const override {
    if (freshness == Freshness::kCached) {
      if (cached) return cached;
      return std::unexpected("not cached");
    }
    ++read_throughs;
    read_through_thread = std::this_thread::get_id();
    if (!api_error.empty()) return std::unexpected(api_error);
    return api;
  }

  static FakeView Of(community::NamespaceObjects objects) {
    FakeView view;
    view.cached = NamespaceSnapshot::Make(objects);
    view.api = view.cached;
    return view;
  }
};

}  // namespace bgpcomm::webhook::testing
