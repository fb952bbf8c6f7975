// A webhook view that always answers with one fixed snapshot: the benchmarks judge
// against 10,000 aliases without an API server.
#pragma once

#include "webhook/object_view.h"

namespace bgpcomm::bench {

class StaticView : public webhook::ObjectView {
 public:
  explicit StaticView(community::NamespaceObjects objects)
      : snapshot_(webhook::NamespaceSnapshot::Make(std::move(objects))) {}
  std::expected<std::shared_ptr<const webhook::NamespaceSnapshot>, std::string> Namespace(
      std::string_view, webhook::Freshness) const override {
    return snapshot_;
  }

 private:
  std::shared_ptr<const webhook::NamespaceSnapshot> snapshot_;
};

}  // namespace bgpcomm::bench
