// The webhook's Prometheus metrics. One instance, created by main() and handed to the
// parts that record into it.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace bgpcomm::webhook {

class WebhookMetrics {
 public:
  WebhookMetrics();

  // One admission request answered on `endpoint` ("/validate-..."), with `outcome`
  // allowed, patched, denied, errored (the API could not be reached or the endpoint
  // was wrong) or bad_request (the body was not an AdmissionReview).
  void RecordAdmission(const std::string& endpoint, const std::string& outcome,
                       std::chrono::nanoseconds latency);
  // An HTTP request refused before it reached a handler, by reason (e.g. body_too_large).
  void RecordRejectedHttp(const std::string& reason);
  // A connection of `listener` ("https", "health") closed because its phase ran past its
  // deadline (handshake, reading, writing, idle, closing: ConnectionLimits).
  void RecordConnectionTimedOut(std::string_view listener, std::string_view phase);
  // A connection closed to make room for a new one at --max-connections, by the phase it
  // was in; "new" when every open connection was busy and the new one was refused.
  void RecordConnectionShed(std::string_view listener, std::string_view phase);
  void SetOpenConnections(std::string_view listener, double count);
  void SetCacheSynced(bool synced);
  void SetCachedObjects(const std::string& kind, double count);
  void RecordResolverAction(const std::string& action);  // rewritten, unchanged, failed
  void RecordApiError(const std::string& operation);
  void SetCertificateExpiry(std::chrono::system_clock::time_point not_after);
  void RecordCertificateReload(bool ok);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& admissions_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& rejected_http_;
  prometheus::Family<prometheus::Counter>& connections_timed_out_;
  prometheus::Family<prometheus::Counter>& connections_shed_;
  prometheus::Family<prometheus::Gauge>& open_connections_;
  prometheus::Gauge& cache_synced_;
  prometheus::Family<prometheus::Gauge>& cached_objects_;
  prometheus::Family<prometheus::Counter>& resolver_actions_;
  prometheus::Family<prometheus::Counter>& api_errors_;
  prometheus::Gauge& certificate_expiry_;
  prometheus::Family<prometheus::Counter>& certificate_reloads_;
};

}  // namespace bgpcomm::webhook
