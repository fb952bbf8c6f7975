// The webhook's decision: a pure function of the request, the view and the options.
// It decodes nothing from the network and writes nothing; the HTTP layer calls it.
#pragma once

#include <string_view>

#include "community/admission.h"
#include "webhook/admission_review.h"
#include "webhook/object_view.h"

namespace bgpcomm::webhook {

enum class Endpoint {
  kValidateCommunity,
  kValidateAdvertisement,
  kMutateAdvertisement,
  kValidatePool,
  kValidatePeer,
  kValidateBfdProfile,
};

// The URL path of an endpoint, e.g. "/validate-metallb-io-v1beta1-community".
std::string_view EndpointPath(Endpoint endpoint);

// Judges `request` as `endpoint` does. Validating endpoints deny with every problem at
// once (403 Forbidden, see AdmissionResponse::Denied) and return warnings; the mutating endpoint
// never denies an object for its content: it returns the JSON Patch that stores the resolution, or
// no patch when the stored annotation is already right. A lookup the decision needs that the view
// cannot answer is a denial saying the API could not be reached; a denial that rests on
// a cached lookup is re-judged with a read-through view first.
AdmissionResponse Decide(Endpoint endpoint, const AdmissionRequest& request, const ObjectView& view,
                         const community::AdmissionOptions& options);

// Decide() for a server's handler (AdmissionHandler): with `may_block` false the view is
// read through NonBlockingView, so that where a decision would wait on the API server it
// throws WouldBlock instead.
AdmissionResponse Decide(Endpoint endpoint, const AdmissionRequest& request, const ObjectView& view,
                         const community::AdmissionOptions& options, bool may_block);

}  // namespace bgpcomm::webhook
