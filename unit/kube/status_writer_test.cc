// StatusWriter against a loopback stand-in for the API server that keeps the objects of
// one status kind: whose objects they are (ownerReferences) after a speaker Pod replaced
// another.
#include "kube/status_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/client.h"
#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using testing::TestServer;

const Resource kStates{"metallb.io", "v1beta1", "configurationstates", "ConfigurationState"};
constexpr char kNs[] = "metallb-system";
constexpr char kCollection[] = "/apis/metallb.io/v1beta1/namespaces/metallb-system/configurationstates";

nlohmann::json PodOwner(const std::string& name, const std::string& uid) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", name}, {"uid", uid}};
}

// The objects of kStates in kNs, and every write in order ("PATCH name", "POST name",
// "DELETE name"; "LIST").
class FakeStore {
 public:
  FakeStore() {
    auto& s = server_.server();
    s.Get(kCollection, [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard lock(mu_);
      calls_.push_back("LIST");
      nlohmann::json list = {{"apiVersion", "metallb.io/v1beta1"},
                             {"kind", "ConfigurationStateList"},
                             {"metadata", {{"resourceVersion", "1"}}},
                             {"items", nlohmann::json::array()}};
      for (const auto& [name, object] : objects_) list["items"].push_back(object);
      res.set_content(list.dump(), "application/json");
    });
    s.Post(kCollection, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      nlohmann::json object = nlohmann::json::parse(req.body);
      std::string name = object["metadata"]["name"];
      calls_.push_back("POST " + name);
      objects_[name] = object;
      res.status = 201;
      res.set_content(object.dump(), "application/json");
    });
    s.Patch(std::string(kCollection) + "/([^/]+)/status",
            [this](const httplib::Request& req, httplib::Response& res) {
              std::lock_guard lock(mu_);
              std::string name = req.matches[1];
              calls_.push_back("PATCH " + name);
              auto it = objects_.find(name);
              if (it == objects_.end()) {
                res.status = 404;
                res.set_content(testing::NotFoundJson(name), "application/json");
                return;
              }
              it->second["status"] = nlohmann::json::parse(req.body)["status"];
              res.set_content(it->second.dump(), "application/json");
            });
    s.Delete(std::string(kCollection) + "/([^/]+)",
             [this](const httplib::Request& req, httplib::Response& res) {
               std::lock_guard lock(mu_);
               std::string name = req.matches[1];
               calls_.push_back("DELETE " + name);
               if (objects_.erase(name) == 0) {
                 res.status = 404;
                 res.set_content(testing::NotFoundJson(name), "application/json");
                 return;
               }
               res.set_content(R"({"kind":"Status","status":"Success"})", "application/json");
             });
    server_.Start();
  }

  std::string Url() const { return server_.Url(); }
  void Put(const std::string& name, const nlohmann::json& owner) {
    std::lock_guard lock(mu_);
    objects_[name] = {{"apiVersion", "metallb.io/v1beta1"},
                      {"kind", "ConfigurationState"},
                      {"metadata",
                       {{"name", name}, {"namespace", kNs}, {"ownerReferences", {owner}}}},
                      {"status", {{"result", "Valid"}}}};
  }
  nlohmann::json Object(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = objects_.find(name);
    return it == objects_.end() ? nlohmann::json() : it->second;
  }
  std::vector<std::string> Calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  TestServer server_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> objects_;
  std::vector<std::string> calls_;
};

StatusObject State(const std::string& name, const std::string& result) {
  return {.resource = kStates,
          .namespace_name = kNs,
          .name = name,
          .labels = {{"bgpcomm.io/node", "node-a"}},
          .status = {{"result", result}}};
}

class StatusWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = Client::New(RestConfig{.server = store_.Url()});
    ASSERT_TRUE(made) << made.error().ToString();
    client_ = std::move(*made);
  }
  // Runs `writer` until the store saw `calls` writes (or 10 s).
  void WaitCalls(std::size_t calls) {
    ASSERT_TRUE(testing::WaitFor([&] { return store_.Calls().size() >= calls; },
                                 std::chrono::seconds(10)))
        << ::testing::PrintToString(store_.Calls());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing more follows
  }

  FakeStore store_;
  std::unique_ptr<Client> client_;
  const nlohmann::json old_pod_ = PodOwner("speaker-old", "uid-old");
  const nlohmann::json new_pod_ = PodOwner("speaker-new", "uid-new");
};

// The object an earlier Pod left, found by Adopt and still true: deleted and created anew
// with this Pod as owner (a status PATCH would keep the old owner, and the garbage
// collector delete it with the old Pod).
TEST_F(StatusWriterTest, AdoptedObjectOfAnotherPodIsMadeAnewWithThisOwner) {
  store_.Put("speaker-node-a", old_pod_);
  StatusWriter writer(*client_, {.owner = new_pod_});
  writer.Start();
  ASSERT_TRUE(writer.Adopt(kStates, kNs, "bgpcomm.io/node=node-a"));
  writer.Set(State("speaker-node-a", "Invalid"), std::chrono::seconds(5));
  writer.Release();
  WaitCalls(4);
  EXPECT_EQ(store_.Calls(), (std::vector<std::string>{"LIST", "DELETE speaker-node-a",
                                                      "POST speaker-node-a",
                                                      "PATCH speaker-node-a"}));
  nlohmann::json object = store_.Object("speaker-node-a");
  EXPECT_EQ(object["metadata"]["ownerReferences"], nlohmann::json::array({new_pod_}));
  EXPECT_EQ(object["status"]["result"], "Invalid");
}

// Not adopted (the ConfigurationState, which the speaker may not list): the answer to
// the status PATCH names the old owner, so the object is made anew the same way.
TEST_F(StatusWriterTest, PatchedObjectOfAnotherPodIsMadeAnewWithThisOwner) {
  store_.Put("speaker-node-a", old_pod_);
  StatusWriter writer(*client_, {.owner = new_pod_});
  writer.Start();
  writer.Set(State("speaker-node-a", "Valid"), std::chrono::seconds(5));
  writer.Release();
  WaitCalls(4);
  EXPECT_EQ(store_.Calls(),
            (std::vector<std::string>{"PATCH speaker-node-a", "DELETE speaker-node-a",
                                      "POST speaker-node-a", "PATCH speaker-node-a"}));
  EXPECT_EQ(store_.Object("speaker-node-a")["metadata"]["ownerReferences"],
            nlohmann::json::array({new_pod_}));
}

// Already this Pod's: one status PATCH, as before.
TEST_F(StatusWriterTest, OwnObjectIsOnlyPatched) {
  store_.Put("speaker-node-a", new_pod_);
  StatusWriter writer(*client_, {.owner = new_pod_});
  writer.Start();
  ASSERT_TRUE(writer.Adopt(kStates, kNs, "bgpcomm.io/node=node-a"));
  writer.Set(State("speaker-node-a", "Invalid"), std::chrono::seconds(5));
  writer.Release();
  WaitCalls(2);
  EXPECT_EQ(store_.Calls(), (std::vector<std::string>{"LIST", "PATCH speaker-node-a"}));
  EXPECT_EQ(store_.Object("speaker-node-a")["status"]["result"], "Invalid");
}

// No owner configured (the allocator's writer, a speaker without --pod-uid): whoever
// owns the object, it is only patched.
TEST_F(StatusWriterTest, WithoutOwnerNothingIsReplaced) {
  store_.Put("allocator", old_pod_);
  StatusWriter writer(*client_, {});
  writer.Start();
  writer.Set(State("allocator", "Valid"), std::chrono::seconds(5));
  writer.Release();
  WaitCalls(1);
  EXPECT_EQ(store_.Calls(), (std::vector<std::string>{"PATCH allocator"}));
  EXPECT_EQ(store_.Object("allocator")["metadata"]["ownerReferences"],
            nlohmann::json::array({old_pod_}));
}

}  // namespace
}  // namespace bgpcomm::kube
