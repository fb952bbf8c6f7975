#include "kube/informer.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "kube/reflector.h"
#include "unit/kube/scripted_apiserver.h"

namespace bgpcomm::kube {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;

// Records handler calls as `add a 10`, `update a 10->12`, `delete b 31`.
class Recorder {
 public:
  InformerHandlers Handlers() {
    return {
        .on_add =
            [this](const ObjectPtr& o) { Push("add " + o->name + " " + o->resource_version); },
        .on_update =
            [this](const ObjectPtr& a, const ObjectPtr& b) {
              Push("update " + b->name + " " + a->resource_version + "->" + b->resource_version);
            },
        .on_delete =
            [this](const ObjectPtr& o) { Push("delete " + o->name + " " + o->resource_version); },
    };
  }
  std::vector<std::string> Calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  bool WaitForCount(std::size_t n) const {
    return WaitFor([&] { return Calls().size() >= n; });
  }

 private:
  void Push(std::string s) {
    std::lock_guard lock(mu_);
    calls_.push_back(std::move(s));
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    auto client = Client::New(RestConfig{.server = apiserver_.Url()},
                              ClientOptions{.request_timeout = std::chrono::seconds(5)});
    EXPECT_TRUE(client);
    client_ = std::move(*client);
  }
  InformerOptions Options(Decoder decode = nullptr) {
    return {.reflector = {.decode = std::move(decode)}, .sleeper = &sleeper_, .random = &random_};
  }

  ScriptedApiserver apiserver_;
  std::unique_ptr<Client> client_;
  FakeSleeper sleeper_;
  FixedRandom random_{0.5};
};

TEST_F(InformerTest, ListsThenWatchesAndResumesAfterBookmarks) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10") + "," +
                                                                      CommunityJson("b", "11"))});
  apiserver_.AddWatch(
      "communities",
      {.lines = {WatchEventLine("ADDED", CommunityJson("c", "21")),
                 WatchEventLine("MODIFIED", CommunityJson("a", "22")), BookmarkLine("30"),
                 WatchEventLine("DELETED", CommunityJson("b", "31")), BookmarkLine("35")},
       .end = StreamEnd::kClean});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  ASSERT_TRUE(recorder.WaitForCount(5));
  ASSERT_TRUE(WaitFor([&] { return apiserver_.WatchCount("communities") == 2; }));
  informer.Stop();

  EXPECT_EQ(recorder.Calls(), (std::vector<std::string>{"add a 10", "add b 11", "add c 21",
                                                        "update a 10->22", "delete b 31"}));
  EXPECT_EQ(apiserver_.Requests("communities"),
            (std::vector<std::string>{
                "LIST metallb-system continue=", "WATCH metallb-system rv=20 bookmarks=true",
                "WATCH metallb-system rv=35 bookmarks=true"}));
  auto objects = informer.List();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]->Key(), "metallb-system/a");
  EXPECT_EQ(objects[0]->resource_version, "22");
  EXPECT_NE(objects[0]->As<std::string>()->find("\"primary-route\""), std::string::npos);
  EXPECT_EQ(informer.Get("metallb-system", "c")->resource_version, "21");
  EXPECT_EQ(informer.Get("metallb-system", "b"), nullptr);
  EXPECT_EQ(informer.reflector().ListCount(), 1);
  // A clean end of a stream that carried events reconnects at once.
  EXPECT_TRUE(sleeper_.Delays().empty());
}

// A consumer that waits for the sync acts on the whole list: the handlers have seen
// every listed object before WaitForSync returns, however slow they are.
TEST_F(InformerTest, SyncedOnlyAfterHandlersSawTheList) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10") + "," +
                                                                      CommunityJson("b", "11"))});
  apiserver_.AddWatch("communities", {.lines = {}, .end = StreamEnd::kHang});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  std::atomic<int> handled{0};
  informer.AddHandlers({.on_add = [&](const ObjectPtr&) {
    std::this_thread::sleep_for(100ms);
    ++handled;
  }});
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  EXPECT_EQ(handled.load(), 2);
  informer.Stop();
}

TEST_F(InformerTest, ErrorEvent410Relists) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10") + "," +
                                                                      CommunityJson("b", "11"))});
  apiserver_.AddList("communities", {200, CommunityListJson("40", CommunityJson("b", "38") + "," +
                                                                      CommunityJson("d", "39"))});
  apiserver_.AddWatch(
      "communities",
      {.lines = {WatchEventLine("ADDED", CommunityJson("c", "21")),
                 ErrorEventLine(410, "Expired", "too old resource version: 21 (37)")},
       .end = StreamEnd::kHang});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(recorder.WaitForCount(7));
  ASSERT_TRUE(WaitFor([&] { return apiserver_.WatchCount("communities") == 2; }));
  informer.Stop();
  // The relist reports what changed while the watch was gone: a and c deleted, b
  // updated, d added.
  EXPECT_EQ(recorder.Calls(),
            (std::vector<std::string>{"add a 10", "add b 11", "add c 21", "delete a 10",
                                      "delete c 21", "update b 11->38", "add d 39"}));
  // The relist reads the watch cache (rv=0) after a jitter of 0.5 * relist_jitter (2 s).
  EXPECT_EQ(apiserver_.Requests("communities"),
            (std::vector<std::string>{
                "LIST metallb-system continue=", "WATCH metallb-system rv=20 bookmarks=true",
                "LIST metallb-system continue= rv=0",
                "WATCH metallb-system rv=40 bookmarks=true"}));
  EXPECT_EQ(informer.reflector().ListCount(), 2);
  EXPECT_EQ(sleeper_.Delays(), (std::vector<Duration>{1s}));
  EXPECT_EQ(informer.reflector().LastError(),
            "communities: HTTP 410 Expired: too old resource version: 21 (37)");
}

TEST_F(InformerTest, Http410OnWatchRelists) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10"))});
  apiserver_.AddList("communities", {200, CommunityListJson("50", CommunityJson("a", "45"))});
  apiserver_.AddWatch("communities", {.status = 410, .body = GoneJson("20")});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(recorder.WaitForCount(2));
  ASSERT_TRUE(WaitFor([&] { return apiserver_.WatchCount("communities") == 2; }));
  informer.Stop();
  EXPECT_EQ(recorder.Calls(), (std::vector<std::string>{"add a 10", "update a 10->45"}));
  EXPECT_EQ(apiserver_.Requests("communities"),
            (std::vector<std::string>{
                "LIST metallb-system continue=", "WATCH metallb-system rv=20 bookmarks=true",
                "LIST metallb-system continue= rv=0",
                "WATCH metallb-system rv=50 bookmarks=true"}));
}

// Every watcher of a compacted API server gets its 410 at the same moment: each relist
// waits its own random part of relist_jitter (here 0.9 * 4 s), so they do not all land at
// once; a relist the watch cache cannot serve is tried again from etcd (no rv).
TEST_F(InformerTest, RelistAfter410IsJitteredAndFallsBackToEtcd) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10"))});
  apiserver_.AddList("communities", {503, StatusJson(503, "ServiceUnavailable", "not ready")});
  apiserver_.AddList("communities", {200, CommunityListJson("50", CommunityJson("a", "45"))});
  apiserver_.AddWatch("communities", {.status = 410, .body = GoneJson("20")});
  FixedRandom high(0.9);
  InformerOptions options = Options(KeepJsonText());
  options.random = &high;
  options.reflector.relist_jitter = 4s;
  Informer informer(*client_, kCommunities, "metallb-system", options);
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(recorder.WaitForCount(2));
  informer.Stop();
  const auto requests = apiserver_.Requests("communities");
  ASSERT_GE(requests.size(), 4u);
  EXPECT_EQ(requests[2], "LIST metallb-system continue= rv=0");
  EXPECT_EQ(requests[3], "LIST metallb-system continue=");
  auto delays = sleeper_.Delays();
  ASSERT_GE(delays.size(), 2u);
  EXPECT_EQ(delays[0], 3600ms);  // the jitter
  // The failed relist's backoff: 800 ms * (1 + 0.25 * 0.9).
  const double backoff_ms = std::chrono::duration<double, std::milli>(delays[1]).count();
  EXPECT_NEAR(backoff_ms, 980.0, 0.01);
}

// A stream that carries only ERROR events (a 500 Status inside the watch, as an overloaded
// API server sends) is no progress: the backoff keeps growing instead of starting over.
TEST_F(InformerTest, ErrorEventsAreNoProgressAndKeepTheBackoffGrowing) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10"))});
  for (int i = 0; i < 3; ++i) {
    apiserver_.AddWatch("communities",
                        {.lines = {ErrorEventLine(500, "InternalError", "etcd overloaded")},
                         .end = StreamEnd::kClean});
  }
  apiserver_.AddWatch("communities", {.end = StreamEnd::kHang});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  informer.Start();
  ASSERT_TRUE(WaitFor([&] { return apiserver_.WatchCount("communities") == 4; }));
  informer.Stop();
  EXPECT_EQ(sleeper_.Delays(), (std::vector<Duration>{900ms, 1800ms, 3600ms}));
}

TEST_F(InformerTest, DroppedConnectionReconnectsFromLastResourceVersion) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", CommunityJson("a", "10"))});
  apiserver_.AddWatch("communities",
                      {.lines = {WatchEventLine("ADDED", CommunityJson("b", "21")),
                                 WatchEventLine("MODIFIED", CommunityJson("b", "22"))},
                       .end = StreamEnd::kDrop});
  apiserver_.AddWatch("communities",
                      {.status = 500, .body = StatusJson(500, "InternalError", "etcd timeout")});
  apiserver_.AddWatch(
      "communities",
      {.lines = {WatchEventLine("DELETED", CommunityJson("a", "23"))}, .end = StreamEnd::kHang});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(recorder.WaitForCount(4));
  informer.Stop();
  EXPECT_EQ(recorder.Calls(),
            (std::vector<std::string>{"add a 10", "add b 21", "update b 21->22", "delete a 23"}));
  EXPECT_EQ(apiserver_.Requests("communities"),
            (std::vector<std::string>{
                "LIST metallb-system continue=", "WATCH metallb-system rv=20 bookmarks=true",
                "WATCH metallb-system rv=22 bookmarks=true",
                "WATCH metallb-system rv=22 bookmarks=true"}));
  EXPECT_EQ(informer.reflector().ListCount(), 1);
  // Backoff: 800ms base, then doubled, each with jitter 0.25 * 0.5.
  EXPECT_EQ(sleeper_.Delays(), (std::vector<Duration>{900ms, 1800ms}));
}

TEST_F(InformerTest, EmptyStreamsBackOffBeforeReconnecting) {
  apiserver_.AddList("communities", {200, CommunityListJson("20", "")});
  apiserver_.AddWatch("communities", {.end = StreamEnd::kClean});
  apiserver_.AddWatch("communities", {.end = StreamEnd::kClean});
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  informer.Start();
  ASSERT_TRUE(WaitFor([&] { return apiserver_.WatchCount("communities") == 3; }));
  informer.Stop();
  // An apiserver that ends streams at once without even a bookmark is not hammered.
  EXPECT_EQ(sleeper_.Delays(), (std::vector<Duration>{900ms, 1800ms}));
  EXPECT_EQ(apiserver_.Requests("communities").back(), "WATCH metallb-system rv=20 bookmarks=true");
}

TEST_F(InformerTest, ListFailuresBackOffUntilTheApiserverAnswers) {
  apiserver_.AddList("communities", {503, StatusJson(503, "ServiceUnavailable", "etcd not ready")});
  apiserver_.AddList("communities", {503, StatusJson(503, "ServiceUnavailable", "etcd not ready")});
  apiserver_.AddList("communities",
                     {403, StatusJson(403, "Forbidden", "communities.metallb.io is forbidden")});
  apiserver_.AddList("communities", {200, CommunityListJson("20", "")});
  // Each failure is logged with its reason, and the first success after them once.
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(32);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", log));
  Informer informer(*client_, kCommunities, "metallb-system", Options(KeepJsonText()));
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(10s));
  informer.Stop();
  spdlog::set_default_logger(previous);
  EXPECT_TRUE(informer.List().empty());
  EXPECT_EQ(sleeper_.Delays(), (std::vector<Duration>{900ms, 1800ms, 3600ms}));
  std::vector<std::string> lines = log->last_formatted();
  auto count = [&](const std::string& text) {
    return std::ranges::count_if(lines, [&](const std::string& l) { return l.contains(text); });
  };
  EXPECT_EQ(count("event=watch_failed resource=communities error=\"HTTP 503"), 2);
  EXPECT_EQ(count("event=watch_failed resource=communities error=\"HTTP 403 Forbidden"), 1);
  EXPECT_EQ(count("event=watch_resumed resource=communities"), 1);
}

TEST(BackoffTest, CapsAndResets) {
  FixedRandom random(0.0);
  Backoff backoff({.initial = 1s, .cap = 5s, .factor = 2.0, .jitter = 0.2}, random);
  std::vector<Duration> delays;
  for (int i = 0; i < 5; ++i) delays.push_back(backoff.Next());
  EXPECT_EQ(delays, (std::vector<Duration>{1s, 2s, 4s, 5s, 5s}));
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), 1s);
  FixedRandom high(0.999);
  Backoff jittered({.initial = 1s, .cap = 5s, .factor = 2.0, .jitter = 0.2}, high);
  EXPECT_GT(jittered.Next(), 1190ms);
}

}  // namespace
}  // namespace bgpcomm::kube
