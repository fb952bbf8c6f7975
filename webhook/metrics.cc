#include "webhook/metrics.h"

namespace bgpcomm::webhook {
namespace {

const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};

}  // namespace

WebhookMetrics::WebhookMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      admissions_(prometheus::BuildCounter()
                      .Name("bgpcomm_webhook_admission_requests_total")
                      .Help("Admission requests answered, by endpoint and outcome.")
                      .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("bgpcomm_webhook_admission_duration_seconds")
                   .Help("Time from a decoded request to its encoded response, by endpoint.")
                   .Register(*registry_)),
      rejected_http_(prometheus::BuildCounter()
                         .Name("bgpcomm_webhook_http_rejected_total")
                         .Help("HTTP requests refused before reaching a handler, by reason.")
                         .Register(*registry_)),
      connections_timed_out_(
          prometheus::BuildCounter()
              .Name("bgpcomm_webhook_connections_timed_out_total")
              .Help("Connections closed past their phase's deadline, by listener and phase.")
              .Register(*registry_)),
      connections_shed_(prometheus::BuildCounter()
                            .Name("bgpcomm_webhook_connections_shed_total")
                            .Help("Connections closed to make room for a new one at "
                                  "--max-connections, by listener and phase (new: the new "
                                  "one refused).")
                            .Register(*registry_)),
      open_connections_(prometheus::BuildGauge()
                            .Name("bgpcomm_webhook_open_connections")
                            .Help("Connections open now, by listener.")
                            .Register(*registry_)),
      cache_synced_(prometheus::BuildGauge()
                        .Name("bgpcomm_webhook_cache_synced")
                        .Help("1 once the object caches have synced.")
                        .Register(*registry_)
                        .Add({})),
      cached_objects_(prometheus::BuildGauge()
                          .Name("bgpcomm_webhook_cached_objects")
                          .Help("Objects held in the cache, by kind.")
                          .Register(*registry_)),
      resolver_actions_(prometheus::BuildCounter()
                            .Name("bgpcomm_resolver_actions_total")
                            .Help("Resolver work on advertisements, by action.")
                            .Register(*registry_)),
      api_errors_(prometheus::BuildCounter()
                      .Name("bgpcomm_webhook_api_errors_total")
                      .Help("Failed Kubernetes API calls, by operation.")
                      .Register(*registry_)),
      certificate_expiry_(prometheus::BuildGauge()
                              .Name("bgpcomm_webhook_certificate_expiry_timestamp_seconds")
                              .Help("notAfter of the serving certificate.")
                              .Register(*registry_)
                              .Add({})),
      certificate_reloads_(prometheus::BuildCounter()
                               .Name("bgpcomm_webhook_certificate_reloads_total")
                               .Help("Serving certificate reloads, by result.")
                               .Register(*registry_)) {}

void WebhookMetrics::RecordAdmission(const std::string& endpoint, const std::string& outcome,
                                     std::chrono::nanoseconds latency) {
  admissions_.Add({{"endpoint", endpoint}, {"outcome", outcome}}).Increment();
  latency_.Add({{"endpoint", endpoint}}, kLatencyBuckets)
      .Observe(std::chrono::duration<double>(latency).count());
}

void WebhookMetrics::RecordRejectedHttp(const std::string& reason) {
  rejected_http_.Add({{"reason", reason}}).Increment();
}

void WebhookMetrics::RecordConnectionTimedOut(std::string_view listener, std::string_view phase) {
  connections_timed_out_.Add({{"listener", std::string(listener)}, {"phase", std::string(phase)}})
      .Increment();
}

void WebhookMetrics::RecordConnectionShed(std::string_view listener, std::string_view phase) {
  connections_shed_.Add({{"listener", std::string(listener)}, {"phase", std::string(phase)}})
      .Increment();
}

void WebhookMetrics::SetOpenConnections(std::string_view listener, double count) {
  open_connections_.Add({{"listener", std::string(listener)}}).Set(count);
}

void WebhookMetrics::SetCacheSynced(bool synced) { cache_synced_.Set(synced ? 1 : 0); }

void WebhookMetrics::SetCachedObjects(const std::string& kind, double count) {
  cached_objects_.Add({{"kind", kind}}).Set(count);
}

void WebhookMetrics::RecordResolverAction(const std::string& action) {
  resolver_actions_.Add({{"action", action}}).Increment();
}

void WebhookMetrics::RecordApiError(const std::string& operation) {
  api_errors_.Add({{"operation", operation}}).Increment();
}

void WebhookMetrics::SetCertificateExpiry(std::chrono::system_clock::time_point not_after) {
  certificate_expiry_.Set(std::chrono::duration<double>(not_after.time_since_epoch()).count());
}

void WebhookMetrics::RecordCertificateReload(bool ok) {
  certificate_reloads_.Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

}  // namespace bgpcomm::webhook
