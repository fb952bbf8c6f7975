#include "kube/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using namespace bgpcomm::kube::testing;
constexpr char kCollection[] = "/apis/metallb.io/v1beta1/namespaces/metallb-system/communities";

std::unique_ptr<Client> NewClient(const std::string& url, RestConfig config = {},
                                  ClientOptions options = {}) {
  config.server = url;
  options.request_timeout = std::chrono::seconds(5);
  auto client = Client::New(std::move(config), std::move(options));
  EXPECT_TRUE(client) << client.error().message;
  return std::move(*client);
}

TEST(ResourceTest, Paths) {
  EXPECT_EQ(kCommunities.CollectionPath("metallb-system"), kCollection);
  EXPECT_EQ(kCommunities.ObjectPath("ns", "x"),
            "/apis/metallb.io/v1beta1/namespaces/ns/communities/x");
  EXPECT_EQ(kCommunities.CollectionPath(""), "/apis/metallb.io/v1beta1/communities");
  EXPECT_EQ(resources::kEvents.CollectionPath("default"), "/api/v1/namespaces/default/events");
  EXPECT_EQ(kBGPPeers.ApiVersion(), "metallb.io/v1beta2");
  EXPECT_EQ(QueryEscape("app in (a,b)"), "app%20in%20%28a%2Cb%29");
}

TEST(ResourceTest, NamesCannotAddSegmentsQueriesOrHeaderLines) {
  EXPECT_EQ(resources::kSecrets.ObjectPath("metallb-system", "peer-password.v2"),
            "/api/v1/namespaces/metallb-system/secrets/peer-password.v2");
  EXPECT_EQ(resources::kSecrets.ObjectPath("metallb-system", "a/../b?x"),
            "/api/v1/namespaces/metallb-system/secrets/a%2F..%2Fb%3Fx");
  EXPECT_EQ(resources::kSecrets.ObjectPath("metallb-system", ".."),
            "/api/v1/namespaces/metallb-system/secrets/%2E%2E");
  EXPECT_EQ(resources::kSecrets.ObjectPath("metallb-system", "x\r\nHost: evil"),
            "/api/v1/namespaces/metallb-system/secrets/x%0D%0AHost%3A%20evil");
  EXPECT_EQ(resources::kSecrets.CollectionPath("a/b"), "/api/v1/namespaces/a%2Fb/secrets");
}

TEST(ClientTest, RejectsBadServerUrls) {
  for (const char* server :
       {"ftp://x", "https://", "https://[::1", "https://h:99999", "https://h:x"}) {
    auto client = Client::New(RestConfig{.server = server});
    EXPECT_FALSE(client) << server;
  }
  EXPECT_TRUE(Client::New(RestConfig{.server = "https://[fd00::1]:6443/k8s/clusters/c-1/"}));
}

TEST(ClientTest, GetAndNotFoundStatus) {
  TestServer server;
  std::string auth;
  server.server().Get(
      std::string(kCollection) + "/(.+)", [&](const httplib::Request& req, httplib::Response& res) {
        auth = req.get_header_value("Authorization");
        if (req.matches[1] == "my-communities") {
          res.set_content(CommunityJson("my-communities", "5001"), "application/json");
        } else {
          res.status = 404;
          res.set_content(NotFoundJson(req.matches[1]), "application/json");
        }
      });
  server.Start();
  auto client = NewClient(server.Url(), {.token = "sekret"});
  auto object = client->Get(kCommunities, "metallb-system", "my-communities");
  ASSERT_TRUE(object) << object.error().ToString();
  EXPECT_EQ((*object)["spec"]["communities"][0]["value"], "64512:100");
  rapidjson::Document document;
  const std::string text = object->dump();
  document.Parse(text.data(), text.size());
  Object identity = ToObject(document, KeepJsonText());
  EXPECT_EQ(identity.resource_version, "5001");
  EXPECT_EQ(identity.Key(), "metallb-system/my-communities");
  EXPECT_EQ(*identity.As<std::string>(), text);
  EXPECT_EQ(auth, "Bearer sekret");

  auto missing = client->Get(kCommunities, "metallb-system", "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().http_status, 404);
  EXPECT_EQ(missing.error().reason, "NotFound");
  EXPECT_EQ(missing.error().message, "communities.metallb.io \"nope\" not found");
  EXPECT_EQ(missing.error().ToString(),
            "HTTP 404 NotFound: communities.metallb.io \"nope\" not found");
  EXPECT_TRUE(missing.error().IsNotFound());
}

TEST(ClientTest, ConnectionFailureIsAnErrorWithoutStatus) {
  std::string url;
  {
    TestServer server;  // served then stopped: nothing listens on its port afterwards
    server.Start();
    url = server.Url();
    server.Stop();
  }
  auto client = NewClient(url);
  auto result = client->Get(kCommunities, "metallb-system", "x");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().http_status, 0);
  EXPECT_EQ(result.error().message,
            "GET /apis/metallb.io/v1beta1/namespaces/metallb-system/communities/x: Connection");
}

TEST(ClientTest, ListFollowsContinueAcrossPages) {
  TestServer server;
  std::vector<std::string> queries;
  server.server().Get(kCollection, [&](const httplib::Request& req, httplib::Response& res) {
    queries.push_back(req.get_param_value("limit") + "|" + req.get_param_value("continue") + "|" +
                      req.get_param_value("labelSelector"));
    std::string token = req.get_param_value("continue");
    if (token.empty()) {
      res.set_content(CommunityListJson(
                          "7000", CommunityJson("a", "6001") + "," + CommunityJson("b", "6002"),
                          "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwMCwic3RhcnQiOiJiXHUwMDAwIn0", 1),
                      "application/json");
    } else if (token == "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwMCwic3RhcnQiOiJiXHUwMDAwIn0") {
      res.set_content(CommunityListJson("7000", CommunityJson("c", "6003")), "application/json");
    } else {
      res.status = 410;
      res.set_content(StatusJson(410, "Expired", "The provided continue parameter is too old"),
                      "application/json");
    }
  });
  server.Start();
  auto client = NewClient(server.Url());
  auto list = client->List(kCommunities, "metallb-system",
                           {.label_selector = "app in (bgp,x)", .page_size = 2});
  ASSERT_TRUE(list) << list.error().ToString();
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_EQ(list->items[2]["metadata"]["name"], "c");
  EXPECT_EQ(list->resource_version, "7000");
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_EQ(queries[0], "2||app in (bgp,x)");
  EXPECT_EQ(queries[1],
            "2|eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NzAwMCwic3RhcnQiOiJiXHUwMDAwIn0|app in (bgp,x)");
}

TEST(ClientTest, CreatePatchDeleteWithDryRun) {
  TestServer server;
  std::vector<std::string> seen;
  auto record = [&](const httplib::Request& req) {
    seen.push_back(req.method + " " + req.path + " dryRun=" + req.get_param_value("dryRun") + " " +
                   req.get_header_value("Content-Type") + " " + req.body);
  };
  server.server().Post(kCollection, [&](const httplib::Request& req, httplib::Response& res) {
    record(req);
    if (req.body.find("\"dup\"") != std::string::npos) {
      res.status = 409;
      res.set_content(
          StatusJson(409, "AlreadyExists", "communities.metallb.io \\\"dup\\\" already exists"),
          "application/json");
      return;
    }
    res.status = 201;
    res.set_content(CommunityJson("new", "8001"), "application/json");
  });
  server.server().Patch(
      std::string(kCollection) + "/(.+)", [&](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.set_content(CommunityJson(req.matches[1], "8002", "64512:200"), "application/json");
      });
  server.server().Delete(std::string(kCollection) + "/(.+)", [&](const httplib::Request& req,
                                                                 httplib::Response& res) {
    record(req);
    res.set_content(
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"new","group":"metallb.io","kind":"communities","uid":"u"}})",
        "application/json");
  });
  server.Start();
  auto client = NewClient(server.Url());
  nlohmann::json object = nlohmann::json::parse(CommunityJson("new", ""));
  auto created = client->Create(kCommunities, "metallb-system", object, {.dry_run = true});
  ASSERT_TRUE(created) << created.error().ToString();
  EXPECT_EQ((*created)["metadata"]["resourceVersion"], "8001");

  object["metadata"]["name"] = "dup";
  auto conflict = client->Create(kCommunities, "metallb-system", object);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().http_status, 409);
  EXPECT_EQ(conflict.error().reason, "AlreadyExists");

  const std::string json_patch =
      R"([{"op":"replace","path":"/spec/communities/0/value","value":"64512:200"}])";
  auto patched = client->Patch(kCommunities, "metallb-system", "new", PatchType::kJson, json_patch);
  ASSERT_TRUE(patched) << patched.error().ToString();
  EXPECT_EQ((*patched)["spec"]["communities"][0]["value"], "64512:200");
  ASSERT_TRUE(client->Patch(kCommunities, "metallb-system", "new", PatchType::kMerge,
                            R"({"metadata":{"labels":{"a":"b"}}})", {.dry_run = true}));
  EXPECT_FALSE(client->Patch(kCommunities, "metallb-system", "new", PatchType::kApply, "{}"));
  ASSERT_TRUE(client->Patch(kCommunities, "metallb-system", "new", PatchType::kApply, "{}",
                            {.field_manager = "bgpcomm", .force = true}));
  ASSERT_TRUE(client->Delete(kCommunities, "metallb-system", "new"));

  ASSERT_EQ(seen.size(), 6u);
  EXPECT_EQ(seen[0].substr(0, seen[0].find(" {")),
            std::string("POST ") + kCollection + " dryRun=All application/json");
  EXPECT_EQ(seen[2], std::string("PATCH ") + kCollection +
                         "/new dryRun= application/json-patch+json " + json_patch);
  EXPECT_EQ(
      seen[3],
      std::string("PATCH ") + kCollection +
          "/new dryRun=All application/merge-patch+json {\"metadata\":{\"labels\":{\"a\":\"b\"}}}");
  EXPECT_EQ(seen[4],
            std::string("PATCH ") + kCollection + "/new dryRun= application/apply-patch+yaml {}");
  EXPECT_EQ(seen[5], std::string("DELETE ") + kCollection + "/new dryRun=  ");
}

TEST(ClientTest, TokenFileIsRereadOn401AndAfterAMinute) {
  TempDir dir;
  std::string file = dir.Write("token", "old-token\n");
  TestServer server;
  std::string valid_token = "new-token";
  std::vector<std::string> auths;
  std::mutex mu;
  server.server().Get(
      std::string(kCollection) + "/x", [&](const httplib::Request& req, httplib::Response& res) {
        std::string auth = req.get_header_value("Authorization");
        {
          std::lock_guard lock(mu);
          auths.push_back(auth);
        }
        if (auth != "Bearer " + valid_token) {
          res.status = 401;
          res.set_content(StatusJson(401, "Unauthorized", "Unauthorized"), "application/json");
          return;
        }
        res.set_content(CommunityJson("x", "1"), "application/json");
      });
  server.Start();
  FakeClock clock;
  auto client = NewClient(server.Url(), {.token_file = file}, {.clock = &clock});
  valid_token = "old-token";
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "x"));
  // Rotation: the apiserver now only accepts the new token; the first call gets 401,
  // re-reads the file and succeeds.
  dir.Write("token", "new-token");
  valid_token = "new-token";
  auto again = client->Get(kCommunities, "metallb-system", "x");
  ASSERT_TRUE(again) << again.error().ToString();
  // Age: a file rotated a minute later is picked up without a 401.
  dir.Write("token", "newer-token");
  clock.Advance(std::chrono::seconds(61));
  valid_token = "newer-token";
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "x"));
  EXPECT_EQ(auths, (std::vector<std::string>{"Bearer old-token", "Bearer old-token",
                                             "Bearer new-token", "Bearer newer-token"}));
  // A token that stays invalid is reported with the apiserver's status.
  valid_token = "something-else";
  auto denied = client->Get(kCommunities, "metallb-system", "x");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().ToString(), "HTTP 401 Unauthorized: Unauthorized");
}

TEST(ClientTest, ConcurrentCallsFromSeveralThreads) {
  TestServer server;
  server.server().Get(std::string(kCollection) + "/(.+)",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        res.set_content(CommunityJson(req.matches[1], "1"), "application/json");
                      });
  server.Start();
  auto client = NewClient(server.Url());
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 10; ++i) {
          std::string name = "c" + std::to_string(t) + "-" + std::to_string(i);
          auto got = client->Get(kCommunities, "metallb-system", name);
          if (got && (*got)["metadata"]["name"] == name) ++ok;
        }
      });
  }
  EXPECT_EQ(ok.load(), 40);
}

TEST(ClientTest, WatchDecodesEventsAndBookmarks) {
  TestServer server;
  std::string query;
  server.server().Get(kCollection, [&](const httplib::Request& req, httplib::Response& res) {
    query = "watch=" + req.get_param_value("watch") +
            " bookmarks=" + req.get_param_value("allowWatchBookmarks") +
            " rv=" + req.get_param_value("resourceVersion") +
            " timeout=" + req.get_param_value("timeoutSeconds");
    std::string stream = WatchEventLine("ADDED", CommunityJson("a", "101")) +
                         WatchEventLine("MODIFIED", CommunityJson("a", "102", "64512:7")) +
                         BookmarkLine("150") + WatchEventLine("DELETED", CommunityJson("a", "151"));
    // Split at awkward places: events arrive in chunks that cut lines.
    auto chunks = std::make_shared<std::vector<std::string>>();
    for (std::size_t i = 0; i < stream.size(); i += 37) chunks->push_back(stream.substr(i, 37));
    res.set_chunked_content_provider(
        "application/json",
        [chunks, i = std::size_t{0}](std::size_t, httplib::DataSink& sink) mutable {
          if (i == chunks->size()) {
            sink.done();
            return true;
          }
          const auto& c = (*chunks)[i++];
          sink.write(c.data(), c.size());
          return true;
        });
  });
  server.Start();
  auto client = NewClient(server.Url());
  std::vector<std::string> events;
  auto result = client->Watch(kCommunities, "metallb-system",
                              {.resource_version = "100", .timeout = std::chrono::seconds(60)},
                              [&](WatchEvent&& e) {
                                events.push_back(std::string(ToString(e.type)) + " " +
                                                 e.object.name + " " + e.object.resource_version);
                                if (e.type == WatchEventType::kModified) {
                                  EXPECT_NE(e.json, nullptr);
                                  if (e.json == nullptr) return false;
                                  EXPECT_EQ(std::string((*e.json)["spec"]["communities"][0]
                                                                ["value"].GetString()),
                                            "64512:7");
                                }
                                return true;
                              });
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(query, "watch=1 bookmarks=true rv=100 timeout=60");
  EXPECT_EQ(events, (std::vector<std::string>{"ADDED a 101", "MODIFIED a 102", "BOOKMARK  150",
                                              "DELETED a 151"}));
}

TEST(ClientTest, WatchReportsGoneAndErrorEvents) {
  TestServer server;
  server.server().Get(kCollection, [&](const httplib::Request& req, httplib::Response& res) {
    if (req.get_param_value("resourceVersion") == "1") {
      res.status = 410;
      res.set_content(GoneJson("1"), "application/json");
      return;
    }
    res.set_content(ErrorEventLine(410, "Expired", "too old resource version: 5 (300)"),
                    "application/json");
  });
  server.Start();
  auto client = NewClient(server.Url());
  auto gone = client->Watch(kCommunities, "metallb-system", {.resource_version = "1"},
                            [](WatchEvent&&) { return true; });
  ASSERT_FALSE(gone);
  EXPECT_TRUE(gone.error().IsGone());
  EXPECT_EQ(gone.error().reason, "Expired");

  std::optional<Error> error;
  auto result =
      client->Watch(kCommunities, "metallb-system", {.resource_version = "5"}, [&](WatchEvent&& e) {
        if (e.type == WatchEventType::kError) error = e.error;
        return true;
      });
  ASSERT_TRUE(result);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->http_status, 410);
  EXPECT_EQ(error->message, "too old resource version: 5 (300)");
}

TEST(ClientTest, WatchStopsWhenAskedWhileTheStreamIsIdle) {
  TestServer server;
  std::atomic<bool> release{false};
  server.server().Get(kCollection, [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider(
        "application/json", [&, sent = false](std::size_t, httplib::DataSink& sink) mutable {
          if (!sent) {
            std::string line = WatchEventLine("ADDED", CommunityJson("a", "1"));
            sink.write(line.data(), line.size());
            sent = true;
            return true;
          }
          // Idle like a quiet apiserver until the test ends.
          WaitFor([&] { return release.load(); }, std::chrono::seconds(20));
          return false;
        });
  });
  server.Start();
  auto client = NewClient(server.Url());
  std::stop_source stop;
  std::atomic<int> events{0};
  std::jthread watcher([&] {
    auto r = client->Watch(
        kCommunities, "metallb-system", {},
        [&](WatchEvent&&) {
          ++events;
          return true;
        },
        stop.get_token());
    EXPECT_TRUE(r);
  });
  ASSERT_TRUE(WaitFor([&] { return events.load() == 1; }));
  auto start = std::chrono::steady_clock::now();
  stop.request_stop();
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  release = true;
}

}  // namespace
}  // namespace bgpcomm::kube
