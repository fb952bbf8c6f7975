// Builders for allocator tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "allocator/allocator.h"
#include "allocator/service.h"
#include "community/objects.h"

namespace bgpcomm::allocator::testing {

inline community::AddressPool Pool(std::string name, std::vector<std::string> addresses) {
  community::AddressPool p;
  p.meta.name = std::move(name);
  p.meta.namespace_name = "metallb-system";
  p.addresses = std::move(addresses);
  return p;
}

inline Service Svc(std::string ns, std::string name) {
  Service s;
  s.namespace_name = std::move(ns);
  s.name = std::move(name);
  s.ports = {{"TCP", 80}};
  return s;
}

inline Service With(Service s, std::string annotation, std::string value) {
  s.annotations[std::move(annotation)] = std::move(value);
  return s;
}

inline Service Holding(Service s, std::vector<std::string> held) {
  s.held = std::move(held);
  return s;
}

}  // namespace bgpcomm::allocator::testing
