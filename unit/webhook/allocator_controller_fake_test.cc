// The allocator controller against a small stateful stand-in for kube-apiserver: LIST
// answers from its store, WATCH streams that stay silent, and status PUTs that check the
// resourceVersion as the apiserver does (409 on a mismatch).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/events.h"
#include "unit/kube/test_support.h"
#include "webhook/allocator_controller.h"

namespace bgpcomm::webhook {
namespace {

using kube::testing::TestServer;
using kube::testing::WaitFor;
using nlohmann::json;

class FakeApiserver {
 public:
  FakeApiserver() {
    auto& s = server_.server();
    s.Get("/api/v1/services", [this](const auto& req, auto& res) { Collection("services", req, res); });
    s.Get("/api/v1/namespaces", [this](const auto& req, auto& res) { Collection("namespaces", req, res); });
    s.Get("/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools",
          [this](const auto& req, auto& res) { Collection("ipaddresspools", req, res); });
    s.Put(R"(/api/v1/namespaces/([^/]+)/services/([^/]+)/status)",
          [this](const auto& req, auto& res) { PutStatus("services", req, res); });
    s.Put(R"(/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools/([^/]+)/status)",
          [this](const auto& req, auto& res) { PutStatus("ipaddresspools", req, res); });
    s.Post(R"(/api/v1/namespaces/([^/]+)/events)", [this](const auto& req, auto& res) {
      std::lock_guard lock(mu_);
      events_.push_back(json::parse(req.body));
      res.status = 201;
      res.set_content(req.body, "application/json");
    });
    server_.Start();
  }
  ~FakeApiserver() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.Stop();
  }
  std::string Url() const { return server_.Url(); }

  // Stores `object` (its metadata.resourceVersion as given) under kind `plural`.
  void Add(const std::string& plural, json object) {
    std::lock_guard lock(mu_);
    std::string key = object["metadata"].value("namespace", "") + "/" +
                      object["metadata"]["name"].get<std::string>();
    store_[plural][key] = std::move(object);
  }
  json Get(const std::string& plural, const std::string& key) {
    std::lock_guard lock(mu_);
    return store_[plural][key];
  }
  // Changes an object behind the informers' back (a concurrent writer).
  void Bump(const std::string& plural, const std::string& key, const std::string& rv) {
    std::lock_guard lock(mu_);
    store_[plural][key]["metadata"]["resourceVersion"] = rv;
  }
  std::vector<std::string> Puts() {
    std::lock_guard lock(mu_);
    return puts_;
  }
  std::vector<json> Events() {
    std::lock_guard lock(mu_);
    return events_;
  }

 private:
  void Collection(const std::string& plural, const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("watch") == "1") {
      res.set_chunked_content_provider("application/json", [this](std::size_t, httplib::DataSink&) {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(30), [this] { return stopping_; });
        return false;
      });
      return;
    }
    std::lock_guard lock(mu_);
    json list = {{"metadata", {{"resourceVersion", "100"}}}, {"items", json::array()}};
    for (const auto& [key, object] : store_[plural]) list["items"].push_back(object);
    res.set_content(list.dump(), "application/json");
  }
  void PutStatus(const std::string& plural, const httplib::Request& req, httplib::Response& res) {
    json body = json::parse(req.body);
    std::string key = (plural == "services" ? std::string(req.matches[1]) : "metallb-system") +
                      "/" + std::string(req.matches[plural == "services" ? 2 : 1]);
    std::lock_guard lock(mu_);
    json& stored = store_[plural][key];
    puts_.push_back(plural + " " + key + " rv=" + body["metadata"].value("resourceVersion", ""));
    if (body["metadata"].value("resourceVersion", "") !=
        stored["metadata"].value("resourceVersion", "")) {
      res.status = 409;
      res.set_content(R"({"kind":"Status","code":409,"reason":"Conflict","message":"modified"})",
                      "application/json");
      return;
    }
    stored["status"] = body["status"];
    stored["metadata"]["resourceVersion"] =
        std::to_string(std::stoi(stored["metadata"].value("resourceVersion", "0")) + 1000);
    res.set_content(stored.dump(), "application/json");
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, std::map<std::string, json>> store_;
  std::vector<std::string> puts_;
  std::vector<json> events_;
  TestServer server_;
};

json Service(const std::string& name, const std::string& rv, json spec, json status = json::object(),
             json annotations = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata",
           {{"name", name}, {"namespace", "shop"}, {"resourceVersion", rv}, {"uid", "u-" + name},
            {"annotations", annotations}}},
          {"spec", spec},
          {"status", status}};
}
json Lb() { return {{"type", "LoadBalancer"}, {"ports", {{{"port", 80}, {"protocol", "TCP"}}}}}; }
json Ingress(const std::string& ip) { return {{"loadBalancer", {{"ingress", {{{"ip", ip}}}}}}}; }

class AllocatorControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api_.Add("namespaces", {{"metadata", {{"name", "shop"}, {"resourceVersion", "1"}}}});
    api_.Add("ipaddresspools",
             {{"apiVersion", "metallb.io/v1beta1"},
              {"kind", "IPAddressPool"},
              {"metadata", {{"name", "p"}, {"namespace", "metallb-system"}, {"resourceVersion", "2"}}},
              {"spec", {{"addresses", {"203.0.113.0/30"}}}}});
  }
  void Start(AllocatorControllerOptions options = {.pool_namespace = "metallb-system"}) {
    auto client = kube::Client::New(kube::RestConfig{.server = api_.Url()},
                                    kube::ClientOptions{.request_timeout = std::chrono::seconds(5)});
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    events_ = std::make_unique<kube::EventRecorder>(
        *client_, clock_, kube::EventRecorderOptions{.component = "bgpcomm-webhook"});
    controller_ = std::make_unique<AllocatorController>(
        *client_, *events_, registry_, options);
    controller_->Start();
    ASSERT_TRUE(WaitFor([&] { return controller_->HasSynced(); }));
  }
  void TearDown() override {
    if (controller_) controller_->Stop();
  }
  std::vector<std::string> EventReasons() {
    std::vector<std::string> out;
    for (const auto& e : api_.Events())
      out.push_back(e["involvedObject"]["name"].get<std::string>() + " " + e["type"].get<std::string>() +
                    " " + e["reason"].get<std::string>() + ": " + e["message"].get<std::string>());
    return out;
  }

  FakeApiserver api_;
  kube::RealClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::unique_ptr<AllocatorController> controller_;
};

TEST_F(AllocatorControllerTest, WritesGuardedStatusKeepsHeldClearsNonLoadBalancersAndCounts) {
  api_.Add("services", Service("a", "11", Lb()));
  api_.Add("services", Service("b", "12", Lb(), Ingress("203.0.113.2")));
  api_.Add("services", Service("c", "13", {{"type", "ClusterIP"}}, Ingress("203.0.113.3")));
  json other = Lb();
  other["loadBalancerClass"] = "example.com/other";
  api_.Add("services", Service("d", "14", other, Ingress("198.51.100.1")));
  Start();

  AllocatorPassCounts counts = controller_->Pass(/*full=*/true);
  EXPECT_EQ(counts.written, 2);
  EXPECT_EQ(counts.conflicts, 0);
  // a: the lowest free address, written over the version that was read; b kept; c (not a
  // LoadBalancer) cleared; d (another class) untouched.
  EXPECT_EQ(api_.Get("services", "shop/a")["status"], Ingress("203.0.113.0"));
  EXPECT_EQ(api_.Get("services", "shop/b")["status"], Ingress("203.0.113.2"));
  EXPECT_EQ(api_.Get("services", "shop/c")["status"], json({{"loadBalancer", json::object()}}));
  EXPECT_EQ(api_.Get("services", "shop/d")["status"], Ingress("198.51.100.1"));
  auto puts = api_.Puts();
  EXPECT_NE(std::find(puts.begin(), puts.end(), "services shop/a rv=11"), puts.end());
  EXPECT_EQ(std::count_if(puts.begin(), puts.end(),
                          [](const std::string& p) { return p.starts_with("services shop/b") ||
                                                            p.starts_with("services shop/d"); }),
            0);
  EXPECT_EQ(api_.Get("ipaddresspools", "metallb-system/p")["status"],
            json({{"assignedIPv4", 2}, {"assignedIPv6", 0}, {"availableIPv4", 2}, {"availableIPv6", 0}}));
  ASSERT_TRUE(WaitFor([&] { return !api_.Events().empty(); }));
  EXPECT_EQ(EventReasons(),
            std::vector<std::string>{"a Normal IPAllocated: Assigned IP [203.0.113.0] from pool p"});
}

TEST_F(AllocatorControllerTest, AConflictIsNeverOverwritten) {
  api_.Add("services", Service("a", "11", Lb()));
  Start();
  // Someone wrote the Service after the informer read it.
  api_.Bump("services", "shop/a", "12");
  AllocatorPassCounts counts = controller_->Pass(/*full=*/true);
  EXPECT_EQ(counts.written, 0);
  EXPECT_EQ(counts.conflicts, 1);
  EXPECT_EQ(api_.Get("services", "shop/a")["status"], json::object());
  // The next pass still decides from what was read: refused again, never forced.
  counts = controller_->Pass(/*full=*/false);
  EXPECT_EQ(counts.conflicts, 1);
  EXPECT_EQ(api_.Get("services", "shop/a")["status"], json::object());
  auto puts = api_.Puts();
  EXPECT_TRUE(std::all_of(puts.begin(), puts.end(),
                          [](const std::string& p) { return !p.starts_with("services") ||
                                                            p == "services shop/a rv=11"; }));
}

// Leadership is asked before each status write, not once per pass: a term that ends
// during a pass sends no write after it (neither Service nor pool status).
TEST_F(AllocatorControllerTest, LeadershipIsAskedBeforeEachStatusWrite) {
  api_.Add("services", Service("a", "11", Lb()));
  api_.Add("services", Service("b", "12", Lb()));
  api_.Add("services", Service("c", "13", Lb()));
  Start();
  std::atomic<int> asked{0};
  controller_->GuardWrites([&] { return ++asked <= 1; });
  AllocatorPassCounts counts = controller_->Pass(/*full=*/true);
  EXPECT_EQ(counts.written, 1);
  EXPECT_EQ(counts.not_leading, 2);
  auto puts = api_.Puts();
  EXPECT_EQ(std::count_if(puts.begin(), puts.end(),
                          [](const std::string& p) { return p.starts_with("services"); }),
            1);
  EXPECT_EQ(std::count_if(puts.begin(), puts.end(),
                          [](const std::string& p) { return p.starts_with("ipaddresspools"); }),
            0);
  EXPECT_GE(asked.load(), 4);  // three Services and the pool
}

// A burst of Services costs a few pool status writes, not one per pass: a pool whose
// counts differ from its stored status is written at most once per interval, and the
// write held back is made by the first pass after it. This fake API server sends no watch
// events, so the cached pool keeps its old status and every full pass finds it due; the
// write after the interval carries the cached resourceVersion and meets a conflict, which
// still counts as a write made.
TEST_F(AllocatorControllerTest, APoolStatusIsWrittenAtMostOncePerInterval) {
  api_.Add("services", Service("a", "11", Lb()));
  Start({.pool_namespace = "metallb-system", .pool_status_interval = std::chrono::milliseconds(300)});
  auto pool_writes = [&] {
    auto puts = api_.Puts();
    return std::count_if(puts.begin(), puts.end(),
                         [](const std::string& p) { return p.starts_with("ipaddresspools"); });
  };
  controller_->Pass(/*full=*/true);
  ASSERT_EQ(pool_writes(), 1);
  EXPECT_EQ(api_.Get("ipaddresspools", "metallb-system/p")["status"],
            json({{"assignedIPv4", 1}, {"assignedIPv6", 0}, {"availableIPv4", 3}, {"availableIPv6", 0}}));
  controller_->Pass(/*full=*/true);   // due, but within the interval: held back
  controller_->Pass(/*full=*/false);  // the held write waits for the interval too
  EXPECT_EQ(pool_writes(), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  controller_->Pass(/*full=*/false);  // nothing else changed: the held write is made
  EXPECT_EQ(pool_writes(), 2);
}

// Events give way to addresses: while statuses are being written, one Event per
// busy_event_interval; the statuses themselves are all written by the pass.
TEST_F(AllocatorControllerTest, EventsGiveWayWhileStatusesAreWritten) {
  api_.Add("services", Service("a", "11", Lb()));
  api_.Add("services", Service("b", "12", Lb()));
  api_.Add("services", Service("c", "13", Lb()));
  constexpr auto kInterval = std::chrono::milliseconds(400);
  Start({.pool_namespace = "metallb-system",
         .busy_window = std::chrono::seconds(10),
         .busy_event_interval = kInterval});
  AllocatorPassCounts counts = controller_->Pass(/*full=*/true);
  ASSERT_EQ(counts.written, 3);
  ASSERT_TRUE(WaitFor([&] { return !api_.Events().empty(); }));
  auto first = std::chrono::steady_clock::now();
  EXPECT_EQ(api_.Events().size(), 1u);  // the next one waits for the interval
  ASSERT_TRUE(WaitFor([&] { return api_.Events().size() == 3; }));
  EXPECT_GE(std::chrono::steady_clock::now() - first, 2 * kInterval - std::chrono::milliseconds(50));
}

TEST_F(AllocatorControllerTest, AMalformedAnnotationIsAWarningNamingItAndItsValue) {
  api_.Add("services", Service("bad", "11", Lb(), json::object(),
                               {{"metallb.io/loadBalancerIPs", "not-an-ip"}}));
  api_.Add("services", Service("good", "12", Lb()));
  Start();
  AllocatorPassCounts counts = controller_->Pass(/*full=*/true);
  EXPECT_EQ(counts.failed, 1);
  EXPECT_EQ(api_.Get("services", "shop/good")["status"], Ingress("203.0.113.0"));
  EXPECT_EQ(api_.Get("services", "shop/bad")["status"], json::object());
  ASSERT_TRUE(WaitFor([&] { return api_.Events().size() == 2; }));
  bool named = false;
  for (const auto& e : EventReasons()) {
    if (e.starts_with("bad Warning AllocationFailed: MalformedRequest: ") &&
        e.find("metallb.io/loadBalancerIPs") != std::string::npos &&
        e.find("not-an-ip") != std::string::npos)
      named = true;
  }
  EXPECT_TRUE(named) << ::testing::PrintToString(EventReasons());
}

}  // namespace
}  // namespace bgpcomm::webhook
