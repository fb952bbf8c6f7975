#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webhook/admission_review.h"
#include "webhook/decide.h"

namespace {

// A view with the walkthrough's namespace, so that decoded requests are judged too.
class WalkthroughView : public bgpcomm::webhook::ObjectView {
 public:
  WalkthroughView() {
    bgpcomm::community::NamespaceObjects objects{.namespace_name = "metallb-system"};
    objects.communities.push_back(
        {.meta = {.name = "my-communities", .namespace_name = "metallb-system"},
         .aliases = {{"primary-route", "64512:100"}, {"region-us-east", "large:64512:1:100"}}});
    objects.pools.push_back({.meta = {.name = "production-pool"}, .addresses = {"203.0.113.0/28"}});
    snapshot_ = bgpcomm::webhook::NamespaceSnapshot::Make(std::move(objects));
  }
  std::expected<std::shared_ptr<const bgpcomm::webhook::NamespaceSnapshot>, std::string> Namespace(
      std::string_view, bgpcomm::webhook::Freshness) const override {
    return snapshot_;
  }

 private:
  std::shared_ptr<const bgpcomm::webhook::NamespaceSnapshot> snapshot_;
};

}  // namespace

// Any body must decode to a request or a reason, and every decoded request must be
// judged by every endpoint and encoded, without a crash or sanitizer report.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const WalkthroughView view;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto request = bgpcomm::webhook::DecodeReview(body);
  if (!request) {
    if (request.error().message.empty()) __builtin_trap();
    return 0;
  }
  using bgpcomm::webhook::Endpoint;
  for (Endpoint endpoint : {Endpoint::kValidateCommunity, Endpoint::kValidateAdvertisement,
                            Endpoint::kMutateAdvertisement, Endpoint::kValidatePool,
                            Endpoint::kValidatePeer, Endpoint::kValidateBfdProfile}) {
    auto response = bgpcomm::webhook::Decide(endpoint, *request, view, {});
    if (response.uid != request->uid) __builtin_trap();
    (void)bgpcomm::webhook::EncodeReview(response);
  }
  return 0;
}
