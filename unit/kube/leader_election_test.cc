#include "kube/leader_election.h"

#include <gtest/gtest.h>

#include "kube/events.h"
#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/metallb-system/leases";

// One Lease the way kube-apiserver stores it: resourceVersion bumps on every write and
// a PUT with a stale resourceVersion is a 409 Conflict.
class FakeLeaseServer {
 public:
  FakeLeaseServer() {
    auto& s = server_.server();
    s.Get(std::string(kLeases) + "/([^/]+)",
          [this](const httplib::Request& req, httplib::Response& res) {
            std::function<void()> hook;
            {
              std::lock_guard lock(mu_);
              hook = before_get_;
            }
            if (hook) hook();
            std::lock_guard lock(mu_);
            ++gets_;
            if (!lease_) return NotFound(res, req.matches[1]);
            res.set_content(lease_->dump(), "application/json");
          });
    s.Post(kLeases, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      json body = json::parse(req.body);
      if (lease_) {
        res.status = 409;
        res.set_content(
            StatusJson(409, "AlreadyExists",
                       "leases.coordination.k8s.io \\\"" +
                           body["metadata"]["name"].get<std::string>() + "\\\" already exists"),
            "application/json");
        return;
      }
      body["metadata"]["uid"] = "0b6c6a57-lease";
      body["metadata"]["creationTimestamp"] = "2026-11-25T22:00:00Z";
      Store(std::move(body));
      res.status = 201;
      res.set_content(lease_->dump(), "application/json");
    });
    s.Put(std::string(kLeases) + "/([^/]+)", [this](const httplib::Request& req,
                                                    httplib::Response& res) {
      std::function<void()> hook;
      {
        std::lock_guard lock(mu_);
        hook = before_put_;  // a copy: the hook may replace itself
      }
      if (hook) hook();
      std::lock_guard lock(mu_);
      json body = json::parse(req.body);
      if (!lease_) return NotFound(res, req.matches[1]);
      if (fail_puts_) {
        res.status = 500;
        res.set_content(StatusJson(500, "InternalError", "etcdserver: request timed out"),
                        "application/json");
        return;
      }
      if (body["metadata"]["resourceVersion"] != (*lease_)["metadata"]["resourceVersion"]) {
        ++conflicts_;
        res.status = 409;
        res.set_content(
            StatusJson(409, "Conflict",
                       "Operation cannot be fulfilled on leases.coordination.k8s.io \\\"" +
                           std::string(req.matches[1]) +
                           "\\\": the object has been modified; please apply your changes to the "
                           "latest version and try again"),
            "application/json");
        return;
      }
      Store(std::move(body));
      res.set_content(lease_->dump(), "application/json");
    });
    server_.Start();
  }

  std::string Url() const { return server_.Url(); }
  json Spec() const {
    std::lock_guard lock(mu_);
    return lease_ ? (*lease_)["spec"] : json();
  }
  // Another writer changes the Lease (as a third candidate would).
  void Overwrite(const json& spec) {
    std::lock_guard lock(mu_);
    json next = *lease_;
    next["spec"] = spec;
    Store(std::move(next));
  }
  void SetBeforePut(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    before_put_ = std::move(hook);
  }
  void SetBeforeGet(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    before_get_ = std::move(hook);
  }
  // Every PUT answers 500 (etcd unavailable) while set.
  void FailPuts(bool fail) {
    std::lock_guard lock(mu_);
    fail_puts_ = fail;
  }
  int conflicts() const {
    std::lock_guard lock(mu_);
    return conflicts_;
  }

 private:
  void Store(json lease) {
    lease["metadata"]["resourceVersion"] = std::to_string(++rv_);
    lease_ = std::move(lease);
  }
  void NotFound(httplib::Response& res, const std::string& name) {
    res.status = 404;
    res.set_content(
        StatusJson(404, "NotFound", "leases.coordination.k8s.io \\\"" + name + "\\\" not found"),
        "application/json");
  }

  mutable std::mutex mu_;
  std::optional<json> lease_;
  int rv_ = 900;
  int gets_ = 0;
  int conflicts_ = 0;
  std::function<void()> before_put_;
  std::function<void()> before_get_;
  bool fail_puts_ = false;
  TestServer server_;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionTest() {
    client_ = std::move(
        *Client::New(RestConfig{.server = leases_.Url()}, ClientOptions{.request_timeout = 5s}));
  }
  LeaderElectionConfig Config(const std::string& identity) {
    return {.lease_namespace = "metallb-system",
            .lease_name = "bgpcomm-resolver",
            .identity = identity,
            .lease_duration = 15s,
            .renew_deadline = 10s,
            .retry_period = 2s};
  }

  FakeLeaseServer leases_;
  std::unique_ptr<Client> client_;
  FakeClock clock_;
  FakeSleeper sleeper_{&clock_};
};

TEST_F(LeaderElectionTest, TwoCandidatesOneLeadsAndExpiryHandsOver) {
  LeaderElector a(*client_, Config("webhook-a"), clock_, sleeper_);
  LeaderElector b(*client_, Config("webhook-b"), clock_, sleeper_);
  ASSERT_TRUE(a.TryAcquireOrRenew()) << a.LastError();
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(b.ObservedLeader(), "webhook-a");
  json spec = leases_.Spec();
  EXPECT_EQ(spec["holderIdentity"], "webhook-a");
  EXPECT_EQ(spec["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec["leaseTransitions"], 0);
  EXPECT_EQ(spec["acquireTime"], "2027-01-15T08:00:00.000000Z");

  clock_.Advance(5s);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_EQ(leases_.Spec()["renewTime"], "2027-01-15T08:00:05.000000Z");
  EXPECT_EQ(leases_.Spec()["acquireTime"], "2027-01-15T08:00:00.000000Z");
  EXPECT_FALSE(b.TryAcquireOrRenew());  // b sees the renewal at t=5

  // a stops renewing; b may take over 15 s after it last saw the record change.
  clock_.Advance(14s);
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock_.Advance(1s);
  ASSERT_TRUE(b.TryAcquireOrRenew()) << b.LastError();
  EXPECT_TRUE(b.IsLeader());
  spec = leases_.Spec();
  EXPECT_EQ(spec["holderIdentity"], "webhook-b");
  EXPECT_EQ(spec["leaseTransitions"], 1);
  EXPECT_EQ(spec["acquireTime"], "2027-01-15T08:00:20.000000Z");

  // The old leader, back, finds the Lease held and does not take it.
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_FALSE(a.IsLeader());
  EXPECT_EQ(a.ObservedLeader(), "webhook-b");
}

TEST_F(LeaderElectionTest, ConcurrentWriterMakesTheUpdateConflict) {
  LeaderElector a(*client_, Config("webhook-a"), clock_, sleeper_);
  LeaderElector b(*client_, Config("webhook-b"), clock_, sleeper_);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  clock_.Advance(16s);
  // Between b's GET and PUT, a renews: b's PUT carries a stale resourceVersion.
  leases_.SetBeforePut([&] {
    leases_.SetBeforePut(nullptr);
    json spec = leases_.Spec();
    spec["renewTime"] = FormatMicroTime(clock_.Now());
    leases_.Overwrite(spec);
  });
  EXPECT_FALSE(b.TryAcquireOrRenew());
  EXPECT_EQ(leases_.conflicts(), 1);
  EXPECT_EQ(leases_.Spec()["holderIdentity"], "webhook-a");
  EXPECT_NE(b.LastError().find("HTTP 409 Conflict: Operation cannot be fulfilled"),
            std::string::npos);
}

TEST_F(LeaderElectionTest, ReleaseLetsTheNextCandidateInAtOnce) {
  LeaderElector a(*client_, Config("webhook-a"), clock_, sleeper_);
  LeaderElector b(*client_, Config("webhook-b"), clock_, sleeper_);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  EXPECT_FALSE(b.TryAcquireOrRenew());
  ASSERT_TRUE(a.Release());
  EXPECT_EQ(leases_.Spec()["holderIdentity"], "");
  EXPECT_EQ(leases_.Spec()["leaseDurationSeconds"], 1);
  ASSERT_TRUE(b.TryAcquireOrRenew());
  EXPECT_EQ(leases_.Spec()["leaseTransitions"], 1);
  // Releasing a Lease held by someone else changes nothing.
  ASSERT_TRUE(a.Release());
  EXPECT_EQ(leases_.Spec()["holderIdentity"], "webhook-b");
}

TEST_F(LeaderElectionTest, RunLeadsRenewsLosesAndReleasesOnStop) {
  std::vector<std::string> calls;
  LeaderElectionConfig config = Config("webhook-a");
  config.on_started_leading = [&] { calls.push_back("start"); };
  config.on_stopped_leading = [&] { calls.push_back("stop"); };
  config.on_new_leader = [&](const std::string& id) { calls.push_back("leader " + id); };
  LeaderElector a(*client_, config, clock_, sleeper_);
  std::stop_source stop;
  int sleeps = 0;
  sleeper_.SetHook([&] {
    ++sleeps;
    if (sleeps == 3) {
      // Someone else takes the Lease while a is leading.
      json spec = leases_.Spec();
      spec["holderIdentity"] = "webhook-b";
      spec["renewTime"] = FormatMicroTime(clock_.Now());
      leases_.Overwrite(spec);
    }
    if (sleeps == 6) {
      // b released it; a re-acquires on its next attempt.
      json spec = leases_.Spec();
      spec["holderIdentity"] = "";
      leases_.Overwrite(spec);
    }
    if (sleeps == 8) stop.request_stop();
  });
  a.Run(stop.get_token());
  EXPECT_EQ(calls, (std::vector<std::string>{"leader webhook-a", "start", "leader webhook-b",
                                             "stop", "leader webhook-a", "start", "stop"}));
  EXPECT_EQ(leases_.Spec()["holderIdentity"], "");  // released on stop
  EXPECT_FALSE(a.IsLeader());
  for (Duration d : sleeper_.Delays()) EXPECT_EQ(d, 2s);
}

TEST_F(LeaderElectionTest, RenewDeadlineEndsLeadership) {
  std::vector<std::string> calls;
  LeaderElectionConfig config = Config("webhook-a");
  config.on_started_leading = [&] { calls.push_back("start"); };
  config.on_stopped_leading = [&] { calls.push_back("stop"); };
  LeaderElector a(*client_, config, clock_, sleeper_);
  std::stop_source stop;
  int sleeps = 0;
  // From the 2nd sleep on the apiserver refuses writes (etcd unavailable: 500).
  sleeper_.SetHook([&] {
    ++sleeps;
    if (sleeps == 2) leases_.FailPuts(true);
    if (!calls.empty() && calls.back() == "stop") stop.request_stop();
  });
  a.Run(stop.get_token());
  // Renewed at t=2; failures at t=4..10; at t=12 the 10 s deadline has passed.
  ASSERT_EQ(calls, (std::vector<std::string>{"start", "stop"}));
  EXPECT_GE(sleeps, 6);
}

TEST_F(LeaderElectionTest, LeadershipEndsAtTheRenewDeadlineWithoutAnotherAttempt) {
  LeaderElector a(*client_, Config("webhook-a"), clock_, sleeper_);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  clock_.Advance(9s);
  EXPECT_TRUE(a.IsLeader());
  EXPECT_EQ(a.TimeLeft(), 1s);
  // A failed renewal ends nothing by itself...
  leases_.FailPuts(true);
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_TRUE(a.IsLeader());
  // ...the deadline does, measured from the start of the last successful attempt.
  clock_.Advance(1s);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_EQ(a.TimeLeft(), 0s);
}

TEST_F(LeaderElectionTest, AConflictingRenewalStepsDownAtOnce) {
  LeaderElector a(*client_, Config("webhook-a"), clock_, sleeper_);
  ASSERT_TRUE(a.TryAcquireOrRenew());
  clock_.Advance(2s);
  leases_.SetBeforePut([&] {
    leases_.SetBeforePut(nullptr);
    leases_.Overwrite(leases_.Spec());  // another writer between a's GET and PUT
  });
  EXPECT_FALSE(a.TryAcquireOrRenew());
  EXPECT_FALSE(a.IsLeader());
}

// A partitioned leader: the renewal's request hangs (the API server never answers). The
// term ends at renew_deadline on the leader's own clock, while the request still hangs,
// and Run() stops leading then, not when the client's 5 s timeout fires.
TEST(LeaderElectionRealTimeTest, AHangingRenewalEndsLeadershipAtTheRenewDeadline) {
  // Declared before the server, whose handlers wait on them.
  std::mutex mu;
  std::condition_variable cv;
  bool hang = false;
  FakeLeaseServer leases;
  auto client = std::move(
      *Client::New(RestConfig{.server = leases.Url()}, ClientOptions{.request_timeout = 5s}));
  RealClock clock;
  RealSleeper sleeper;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  LeaderElectionConfig config{.lease_namespace = "metallb-system",
                              .lease_name = "bgpcomm-resolver",
                              .identity = "webhook-a",
                              .lease_duration = 3s,
                              .renew_deadline = 1s,
                              .retry_period = 100ms,
                              .on_started_leading = [&] { started = true; },
                              .on_stopped_leading = [&] { stopped = true; }};
  LeaderElector a(*client, config, clock, sleeper);
  leases.SetBeforeGet([&] {
    std::unique_lock lock(mu);
    cv.wait_for(lock, 8s, [&] { return !hang; });
  });
  std::jthread run([&](std::stop_token stop) { a.Run(stop); });
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));
  std::this_thread::sleep_for(250ms);  // renewing every 100 ms
  {
    std::lock_guard lock(mu);
    hang = true;
  }
  const auto hung_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return !a.IsLeader(); }, 3s));
  const auto not_leader_after = std::chrono::steady_clock::now() - hung_at;
  ASSERT_TRUE(WaitFor([&] { return stopped.load(); }, 8s));
  const auto stopped_after = std::chrono::steady_clock::now() - hung_at;
  {
    std::lock_guard lock(mu);
    hang = false;
  }
  cv.notify_all();
  run.request_stop();
  run.join();
  EXPECT_LE(not_leader_after, 1100ms);
  // The attempt in flight was cut at the deadline, long before the client's timeout.
  EXPECT_LE(stopped_after, 1500ms);
}

TEST(EventRecorderTest, CreatesThenAggregatesRepeats) {
  TestServer server;
  std::vector<std::string> requests;
  std::vector<json> bodies;
  std::mutex mu;
  const std::string events = "/api/v1/namespaces/metallb-system/events";
  server.server().Post(events, [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    requests.push_back("POST");
    bodies.push_back(json::parse(req.body));
    res.status = 201;
    res.set_content(req.body, "application/json");
  });
  server.server().Patch(events + "/(.+)", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    requests.push_back("PATCH " + std::string(req.matches[1]) + " " +
                       req.get_header_value("Content-Type") + " " + req.body);
    res.set_content("{}", "application/json");
  });
  server.Start();
  auto client =
      std::move(*Client::New(RestConfig{.server = server.Url()}, {.request_timeout = 5s}));
  FakeClock clock;
  EventRecorder recorder(*client, clock, {.component = "bgpcomm-speaker", .instance = "node-1"});
  Object advert{.namespace_name = "metallb-system",
                .name = "primary-advert",
                .uid = "3f2a",
                .resource_version = "77"};
  ObjectReference ref = ReferenceTo(kBGPAdvertisements, advert);
  ASSERT_TRUE(recorder.Record(ref, EventType::kWarning, "UnresolvedCommunities",
                              "not announced: alias primary-route is unresolved"));
  clock.Advance(30s);
  ASSERT_TRUE(recorder.Record(ref, EventType::kWarning, "UnresolvedCommunities",
                              "not announced: alias primary-route is unresolved"));
  ASSERT_TRUE(recorder.Record(ref, EventType::kNormal, "Announced", "3 routes to 2 peers"));
  clock.Advance(11min);
  ASSERT_TRUE(recorder.Record(ref, EventType::kWarning, "UnresolvedCommunities",
                              "not announced: alias primary-route is unresolved"));

  ASSERT_EQ(requests.size(), 4u);
  ASSERT_EQ(bodies.size(), 3u);
  const json& first = bodies[0];
  EXPECT_EQ(
      first["metadata"]["name"], "primary-advert." + [] {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%llx", 1'800'000'000'000'000'000ULL);
        return std::string(buf);
      }());
  EXPECT_EQ(first["metadata"]["namespace"], "metallb-system");
  EXPECT_EQ(first["involvedObject"],
            json::parse(R"({"apiVersion":"metallb.io/v1beta1","kind":"BGPAdvertisement",
      "name":"primary-advert","namespace":"metallb-system","uid":"3f2a","resourceVersion":"77"})"));
  EXPECT_EQ(first["type"], "Warning");
  EXPECT_EQ(first["reason"], "UnresolvedCommunities");
  EXPECT_EQ(first["count"], 1);
  EXPECT_EQ(first["firstTimestamp"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(first["source"]["component"], "bgpcomm-speaker");
  EXPECT_EQ(first["reportingInstance"], "node-1");
  EXPECT_EQ(
      requests[1],
      "PATCH " + first["metadata"]["name"].get<std::string>() +
          " application/merge-patch+json {\"count\":2,\"lastTimestamp\":\"2027-01-15T08:00:30Z\"}");
  EXPECT_EQ(bodies[1]["type"], "Normal");
  EXPECT_EQ(bodies[2]["firstTimestamp"], "2027-01-15T08:11:30Z");
}

TEST(MicroTimeTest, Formats) {
  EXPECT_EQ(FormatMicroTime(TimePoint(std::chrono::microseconds(1'764'114'696'123'456))),
            "2025-11-25T23:51:36.123456Z");
}

}  // namespace
}  // namespace bgpcomm::kube
