#include "webhook/decide.h"

#include <string>

#include "community/pool_release.h"
#include "webhook/json_patch.h"
#include "objectjson/metallb.h"

namespace bgpcomm::webhook {

using objectjson::DecodeAdvertisement;
using objectjson::DecodeBfdProfile;
using objectjson::DecodeCommunity;
using objectjson::DecodePeer;
using objectjson::DecodePool;

namespace {

using community::Diagnostics;

struct EndpointSpec {
  Endpoint endpoint;
  std::string_view path;
  std::string_view version;
  std::string_view kind;
};

constexpr EndpointSpec kEndpoints[] = {
    {Endpoint::kValidateCommunity, "/validate-metallb-io-v1beta1-community", "v1beta1",
     "Community"},
    {Endpoint::kValidateAdvertisement, "/validate-metallb-io-v1beta1-bgpadvertisement", "v1beta1",
     "BGPAdvertisement"},
    {Endpoint::kMutateAdvertisement, "/mutate-metallb-io-v1beta1-bgpadvertisement", "v1beta1",
     "BGPAdvertisement"},
    {Endpoint::kValidatePool, "/validate-metallb-io-v1beta1-ipaddresspool", "v1beta1",
     "IPAddressPool"},
    {Endpoint::kValidatePeer, "/validate-metallb-io-v1beta2-bgppeer", "v1beta2", "BGPPeer"},
    {Endpoint::kValidateBfdProfile, "/validate-metallb-io-v1beta1-bfdprofile", "v1beta1",
     "BFDProfile"},
};

const EndpointSpec& SpecOf(Endpoint endpoint) {
  for (const auto& spec : kEndpoints) {
    if (spec.endpoint == endpoint) return spec;
  }
  return kEndpoints[0];
}

std::string Subject(const AdmissionRequest& request) {
  return request.kind + " \"" + request.name + "\"";
}

// The namespace the object lives in: the request's, or the object's own.
std::string NamespaceOf(const AdmissionRequest& request, const community::ObjectMeta& meta) {
  return request.namespace_name.empty() ? meta.namespace_name : request.namespace_name;
}

AdmissionResponse Unreachable(const AdmissionRequest& request, const std::string& why) {
  return AdmissionResponse::Errored(
      request.uid, 503, "ServiceUnavailable",
      Subject(request) +
          " cannot be judged: bgpcomm could not read the namespace's objects from the "
          "Kubernetes API (" +
          why + "); try again");
}

// How a judgement behaves on a namespace with no objects.
enum class EmptyView {
  kMayInventErrors,     // e.g. every alias looks undefined
  kFindsOnlyRealErrors  // its errors are a subset of the errors with any view
};

// Runs `judge(snapshot)`; when it denies from a cached snapshot, judges again from a
// read-through one, so that no denial rests on a cache that might be stale. Without the
// API, errors that need no lookup are still reported when `empty` allows it.
template <typename Judge>
AdmissionResponse WithView(const AdmissionRequest& request, const ObjectView& view,
                           const std::string& namespace_name, EmptyView empty, Judge&& judge) {
  auto cached = view.Namespace(namespace_name, Freshness::kCached);
  if (cached) {
    AdmissionResponse response = judge(**cached);
    if (response.allowed) return response;
  }
  auto fresh = view.Namespace(namespace_name, Freshness::kReadThrough);
  if (fresh) return judge(**fresh);
  if (empty == EmptyView::kFindsOnlyRealErrors) {
    NamespaceSnapshot nothing;
    nothing.objects.namespace_name = namespace_name;
    nothing.stand_in = true;
    AdmissionResponse response = judge(nothing);
    if (!response.allowed) return response;
  }
  return Unreachable(request, fresh.error());
}

AdmissionResponse Finish(const AdmissionRequest& request, const Diagnostics& diagnostics) {
  if (diagnostics.HasErrors()) {
    return AdmissionResponse::Denied(request.uid, Subject(request), diagnostics);
  }
  return AdmissionResponse::Allowed(request.uid, WarningTexts(diagnostics));
}

AdmissionResponse JudgeCommunity(const AdmissionRequest& request, const ObjectView& view,
                                 const community::AdmissionOptions& options) {
  Diagnostics decoding;
  if (request.operation == "DELETE") {
    community::CommunityObject old = DecodeCommunity(*request.old_object, decoding);
    std::string ns = NamespaceOf(request, old.meta);
    return WithView(request, view, ns, EmptyView::kFindsOnlyRealErrors,
                    [&](const NamespaceSnapshot& snapshot) {
                      Diagnostics d = community::ValidateCommunityDelete(
                          old, snapshot.Context(), options);
                      return Finish(request, d);
                    });
  }
  community::CommunityObject object = DecodeCommunity(*request.object, decoding);
  if (decoding.HasErrors()) return Finish(request, decoding);
  std::optional<community::CommunityObject> old;
  if (request.old_object != nullptr) old = DecodeCommunity(*request.old_object, decoding);
  std::string ns = NamespaceOf(request, object.meta);
  return WithView(
      request, view, ns, EmptyView::kFindsOnlyRealErrors, [&](const NamespaceSnapshot& snapshot) {
        Diagnostics d = community::ValidateCommunity(object, old ? &*old : nullptr,
                                                     snapshot.Context(), options);
        return Finish(request, d);
      });
}

// The stored resolution annotation of an advertisement, empty when it has none.
std::string_view ResolvedAnnotation(const community::Advertisement& advertisement) {
  auto it = advertisement.meta.annotations.find(std::string(community::kResolvedAnnotation));
  return it == advertisement.meta.annotations.end() ? std::string_view() : it->second;
}

AdmissionResponse JudgeAdvertisement(const AdmissionRequest& request, const ObjectView& view,
                                     const community::AdmissionOptions& options, bool mutate) {
  if (request.operation == "DELETE") return AdmissionResponse::Allowed(request.uid);
  Diagnostics decoding;
  community::Advertisement object = DecodeAdvertisement(*request.object, decoding);
  if (decoding.HasErrors()) {
    // The mutating endpoint leaves judging to the validating one.
    return mutate ? AdmissionResponse::Allowed(request.uid) : Finish(request, decoding);
  }
  std::optional<community::Advertisement> old;
  if (request.old_object != nullptr) old = DecodeAdvertisement(*request.old_object, decoding);
  std::string ns = NamespaceOf(request, object.meta);

  auto decide_with = [&](const NamespaceSnapshot& snapshot) {
    return community::ValidateAdvertisement(object, old ? &*old : nullptr,
                                            snapshot.Context(), options);
  };
  if (!mutate) {
    return WithView(request, view, ns, EmptyView::kMayInventErrors,
                    [&](const NamespaceSnapshot& snapshot) {
                      return Finish(request, decide_with(snapshot).diagnostics);
                    });
  }

  // Mutation never denies: it stores the resolution, preferring a read-through answer to
  // storing an entry as unresolved. Without any answer it stores nothing and the
  // validating endpoint denies with the reason. It resolves only (the other rules are the
  // validating endpoint's, which denies on them; an object it denies is never stored).
  auto resolve_with = [&](const NamespaceSnapshot& snapshot) {
    return community::ResolveAdvertisement(object, old ? &*old : nullptr, snapshot.Context(),
                                           options);
  };
  const bool in_place = options.expand == community::ExpandMode::kInPlace;
  auto patch_for = [&](const community::AdvertisementDecision& d) {
    return ResolutionPatch(*request.object, d.stored, in_place);
  };
  std::optional<community::AdvertisementDecision> decision;
  if (auto cached = view.Namespace(ns, Freshness::kCached)) decision = resolve_with(**cached);
  // A request that rewrites the stored resolution itself (the resolver's PATCH after an
  // alias changed) and disagrees with this replica's cache: the cache may be the one
  // behind (this replica's watch lags the leader's, or resumes late after an API server
  // restart), and overwriting would store the old communities as a no-op update that
  // nobody retries. The API server's objects decide (a hand-written annotation is still
  // replaced by the true resolution).
  if (!decision || decision->diagnostics.HasErrors() ||
      !decision->stored.resolution.unresolved.empty() ||
      (old && ResolvedAnnotation(object) != ResolvedAnnotation(*old) && patch_for(*decision))) {
    if (auto fresh = view.Namespace(ns, Freshness::kReadThrough)) decision = resolve_with(**fresh);
  }
  AdmissionResponse response = AdmissionResponse::Allowed(request.uid);
  if (decision && !decision->diagnostics.HasErrors()) response.patch = patch_for(*decision);
  return response;
}

// IPAddressPool and BGPPeer CREATE/UPDATE: judged against the namespace's other objects
// (overlapping pools; peers sharing a node, BFDProfiles), read through before a denial.
template <typename Decode, typename Validate>
AdmissionResponse JudgeInNamespace(const AdmissionRequest& request, Decode&& decode,
                                   const ObjectView& view, EmptyView empty, Validate&& validate) {
  if (request.operation == "DELETE") return AdmissionResponse::Allowed(request.uid);
  Diagnostics decoding;
  auto object = decode(*request.object, decoding);
  if (decoding.HasErrors()) return Finish(request, decoding);
  std::string ns = NamespaceOf(request, object.meta);
  return WithView(request, view, ns, empty, [&](const NamespaceSnapshot& snapshot) {
    Diagnostics d = decoding;
    for (auto& item : validate(object,
                               snapshot.Context(),
                               snapshot.stand_in)
                          .items) {
      d.items.push_back(std::move(item));
    }
    return Finish(request, d);
  });
}

AdmissionResponse JudgeBfdProfile(const AdmissionRequest& request, const ObjectView& view,
                                  const community::AdmissionOptions& options) {
  Diagnostics decoding;
  if (request.operation == "DELETE") {
    community::BfdProfile old = DecodeBfdProfile(*request.old_object, decoding);
    std::string ns = NamespaceOf(request, old.meta);
    return WithView(request, view, ns, EmptyView::kFindsOnlyRealErrors,
                    [&](const NamespaceSnapshot& snapshot) {
                      return Finish(request, community::ValidateBfdProfileDelete(
                                                 old, snapshot.Context(),
                                                 options));
                    });
  }
  community::BfdProfile object = DecodeBfdProfile(*request.object, decoding);
  if (!decoding.HasErrors()) {
    for (auto& item : community::ValidateBfdProfile(object, options).items) {
      decoding.items.push_back(std::move(item));
    }
  }
  return Finish(request, decoding);
}

// MetalLB denies every object outside its namespace before looking at anything else; so
// does bgpcomm, without reading that namespace.
std::optional<AdmissionResponse> OutsideNamespace(const AdmissionRequest& request,
                                                  const community::AdmissionOptions& options) {
  if (request.operation == "DELETE" || request.namespace_name.empty()) return std::nullopt;
  Diagnostics d;
  community::CheckNamespace(request.namespace_name, options, d);
  if (!d.HasErrors()) return std::nullopt;
  return Finish(request, d);
}

// An IPAddressPool UPDATE or DELETE that `response` allows: warns about the addresses it
// takes from Services holding them (community::WarnAddressesTaken). Warnings never deny,
// so the view's Services may come from a cache; without them the response is unchanged.
AdmissionResponse WithAddressesTakenWarnings(const AdmissionRequest& request,
                                             const ObjectView& view,
                                             AdmissionResponse response) {
  if (!response.allowed || request.old_object == nullptr) return response;
  Diagnostics ignored;
  community::AddressPool old_pool = DecodePool(*request.old_object, ignored);
  std::optional<community::AddressPool> new_pool;
  if (request.operation != "DELETE" && request.object != nullptr) {
    new_pool = DecodePool(*request.object, ignored);
  }
  auto services = view.ServicesHoldingAddresses();
  if (!services) return response;
  Diagnostics taken =
      community::WarnAddressesTaken(old_pool, new_pool ? &*new_pool : nullptr, *services);
  for (std::string& text : WarningTexts(taken)) response.warnings.push_back(std::move(text));
  return response;
}

}  // namespace

std::string_view EndpointPath(Endpoint endpoint) { return SpecOf(endpoint).path; }

AdmissionResponse Decide(Endpoint endpoint, const AdmissionRequest& request, const ObjectView& view,
                         const community::AdmissionOptions& options) {
  const EndpointSpec& spec = SpecOf(endpoint);
  if (request.group != community::kGroup || request.version != spec.version ||
      request.kind != spec.kind) {
    return AdmissionResponse::Errored(
        request.uid, 400, "BadRequest",
        std::string(spec.path) + " judges " + std::string(community::kGroup) + "/" +
            std::string(spec.version) + " " + std::string(spec.kind) + ", not " + request.group +
            "/" + request.version + " " + request.kind +
            "; check the webhook configuration's rules");
  }
  if (request.operation == "CONNECT") return AdmissionResponse::Allowed(request.uid);
  // The mutating endpoint never denies; its validating twin does.
  if (endpoint != Endpoint::kMutateAdvertisement) {
    if (auto denied = OutsideNamespace(request, options)) return *denied;
  }
  switch (endpoint) {
    case Endpoint::kValidateCommunity:
      return JudgeCommunity(request, view, options);
    case Endpoint::kValidateAdvertisement:
      return JudgeAdvertisement(request, view, options, /*mutate=*/false);
    case Endpoint::kMutateAdvertisement:
      return JudgeAdvertisement(request, view, options, /*mutate=*/true);
    case Endpoint::kValidatePool:
      return WithAddressesTakenWarnings(
          request, view,
          JudgeInNamespace(request, DecodePool, view, EmptyView::kFindsOnlyRealErrors,
                           [&](const community::AddressPool& pool, const auto& context,
                               bool /*stand_in*/) {
                             return community::ValidatePool(pool, context, options);
                           }));
    case Endpoint::kValidatePeer:
      return JudgeInNamespace(request, DecodePeer, view, EmptyView::kFindsOnlyRealErrors,
                              [&](const community::Peer& peer, const auto& context,
                                  bool stand_in) {
                                // Without the API, the profile cannot be looked up.
                                if (!stand_in || peer.bfd_profile.empty()) {
                                  return community::ValidatePeer(peer, context, options);
                                }
                                community::Peer without = peer;
                                without.bfd_profile.clear();
                                return community::ValidatePeer(without, context, options);
                              });
    case Endpoint::kValidateBfdProfile:
      return JudgeBfdProfile(request, view, options);
  }
  return AdmissionResponse::Errored(request.uid, 500, "InternalError", "unknown endpoint");
}

AdmissionResponse Decide(Endpoint endpoint, const AdmissionRequest& request, const ObjectView& view,
                         const community::AdmissionOptions& options, bool may_block) {
  if (may_block) return Decide(endpoint, request, view, options);
  return Decide(endpoint, request, NonBlockingView(view), options);
}

}  // namespace bgpcomm::webhook
