#include "webhook/resolver.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "community/annotation.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::webhook {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kNs = "metallb-system";

// What the webhook stored for `communities` when `aliases` defined the names.
std::string StoredAnnotation(std::vector<std::string> communities,
                             std::vector<community::CommunityAlias> aliases) {
  community::CommunityObject object{.meta = {.name = "tiers", .namespace_name = kNs}};
  object.aliases = std::move(aliases);
  auto table = community::AliasTable::Build(std::span(&object, 1));
  community::Advertisement advertisement{.meta = {.name = "x", .namespace_name = kNs}};
  advertisement.communities = std::move(communities);
  community::Diagnostics ignored;
  return community::ComputeStored(advertisement, nullptr, table,
                                  community::UnresolvedPolicy::kReject,
                                  community::ExpandMode::kAnnotation, ignored)
      .Annotation();
}

json Advertisement(const std::string& name, const std::string& rv,
                   std::vector<std::string> communities, std::optional<std::string> annotation) {
  json object = {{"apiVersion", "metallb.io/v1beta1"},
                 {"kind", "BGPAdvertisement"},
                 {"metadata", {{"name", name}, {"namespace", kNs}, {"resourceVersion", rv}}},
                 {"spec", {{"communities", communities}}}};
  if (annotation) {
    object["metadata"]["annotations"][std::string(community::kResolvedAnnotation)] = *annotation;
  }
  return object;
}

// An API server holding fixed lists (watches end at once) that records every PATCH.
class FakeApiserver {
 public:
  FakeApiserver() {
    server_.server().Get(R"(/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+))",
                         [this](const httplib::Request& req, httplib::Response& res) {
                           std::string plural = req.matches[4];
                           if (req.get_param_value("watch") == "1") {
                             std::this_thread::sleep_for(200ms);
                             res.set_content("", "application/json");
                             return;
                           }
                           std::lock_guard lock(mu_);
                           json list = {{"kind", "List"},
                                        {"metadata", {{"resourceVersion", "10"}}},
                                        {"items", items_[plural]}};
                           res.set_content(list.dump(), "application/json");
                         });
    server_.server().Patch(
        R"(/apis/metallb.io/v1beta1/namespaces/([^/]+)/bgpadvertisements/([^/]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard lock(mu_);
          patches_.push_back({req.matches[2], json::parse(req.body)});
          if (patch_status_ != 200) {
            res.status = patch_status_;
            res.set_content(json{{"kind", "Status"},
                                 {"apiVersion", "v1"},
                                 {"status", "Failure"},
                                 {"code", patch_status_},
                                 {"message", "scripted failure"}}
                                .dump(),
                            "application/json");
            return;
          }
          // The patched object, as the API server answers (the list keeps the old one),
          // with the annotation a mutating webhook replaced, when one is scripted.
          json patched = {{"metadata", {{"name", std::string(req.matches[2])}}}};
          for (const json& item : items_["bgpadvertisements"])
            if (item["metadata"]["name"] == req.matches[2])
              patched = item.patch(json::parse(req.body));
          if (overwrite_)
            patched["metadata"]["annotations"][std::string(community::kResolvedAnnotation)] =
                *overwrite_;
          res.set_content(patched.dump(), "application/json");
        });
    server_.Start();
  }
  void Set(const std::string& plural, json items) {
    std::lock_guard lock(mu_);
    items_[plural] = std::move(items);
  }
  // Every PATCH answers `status` from now on (200: success).
  void SetPatchStatus(int status) {
    std::lock_guard lock(mu_);
    patch_status_ = status;
  }
  // Every admitted PATCH stores `annotation` from now on (nullopt: what was sent), as a
  // mutating webhook replica with an older view would.
  void SetOverwrite(std::optional<std::string> annotation) {
    std::lock_guard lock(mu_);
    overwrite_ = std::move(annotation);
  }
  std::vector<std::pair<std::string, json>> Patches() {
    std::lock_guard lock(mu_);
    return patches_;
  }
  std::string Url() const { return server_.Url(); }

 private:
  std::mutex mu_;
  std::map<std::string, json> items_;
  std::vector<std::pair<std::string, json>> patches_;
  int patch_status_ = 200;
  std::optional<std::string> overwrite_;
  kube::testing::TestServer server_;
};

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* plural : {"communities", "bgpadvertisements", "ipaddresspools", "bgppeers"})
      apiserver_.Set(plural, json::array());
    auto client = kube::Client::New(kube::RestConfig{.server = apiserver_.Url()},
                                    kube::ClientOptions{.request_timeout = 5s});
    ASSERT_TRUE(client);
    client_ = std::move(*client);
  }
  // Starts the cache feeding the view, as the webhook wires them, and waits for the sync.
  void Sync(std::size_t communities, std::size_t advertisements) {
    cache_ = std::make_unique<MetallbCache>(*client_, kNs);
    view_ = std::make_unique<ClusterView>(*client_, *cache_, kNs);
    cache_->OnEvent([this](const kube::Resource& resource, const kube::ObjectPtr& before,
                           const kube::ObjectPtr& after) {
      view_->Apply(resource, before, after);
    });
    cache_->Start();
    ASSERT_TRUE(cache_->WaitForSync(10s));
    // The informers report synced before their handlers have run.
    ASSERT_TRUE(kube::testing::WaitFor([&] {
      auto snapshot = view_->cached().Snapshot();
      return snapshot->Objects().communities.size() == communities &&
             snapshot->Objects().advertisements.size() == advertisements;
    }));
    resolver_ = std::make_unique<Resolver>(*client_, *cache_, view_->cached(), kNs,
                                           community::AdmissionOptions{}, metrics_, &clock_);
  }
  void TearDown() override {
    if (cache_) cache_->Stop();
  }

  FakeApiserver apiserver_;
  std::unique_ptr<kube::Client> client_;
  WebhookMetrics metrics_;
  kube::testing::FakeClock clock_;
  std::unique_ptr<MetallbCache> cache_;
  std::unique_ptr<ClusterView> view_;
  std::unique_ptr<Resolver> resolver_;
};

TEST_F(ResolverTest, RewritesOnlyStaleAdmittedAdvertisementsGuardedByTheirResourceVersion) {
  const std::vector<community::CommunityAlias> before = {{"gold", "64512:1"},
                                                         {"silver", "64512:2"}};
  const std::vector<community::CommunityAlias> now = {{"gold", "64512:100"},
                                                      {"silver", "64512:2"}};
  apiserver_.Set("communities",
                 json::array({{{"metadata", {{"name", "tiers"}, {"namespace", kNs},
                                             {"resourceVersion", "3"}}},
                               {"spec", {{"communities", json::array({
                                             {{"name", "gold"}, {"value", "64512:100"}},
                                             {{"name", "silver"}, {"value", "64512:2"}}})}}}}}));
  apiserver_.Set("bgpadvertisements",
                 json::array({Advertisement("uses-gold", "7", {"gold"},
                                            StoredAnnotation({"gold"}, before)),
                              Advertisement("uses-silver", "8", {"silver"},
                                            StoredAnnotation({"silver"}, now)),
                              Advertisement("never-admitted", "9", {"gold"}, std::nullopt)}));
  Sync(1, 3);
  EXPECT_EQ(view_->cached().AdvertisementsUsing("gold"),
            (std::vector<std::string>{"never-admitted", "uses-gold"}));

  // The batch an alias change names: only the stale one is patched.
  ResolverCounts counts = resolver_->PassOver({"uses-gold", "never-admitted", "gone"});
  EXPECT_EQ(counts.rewritten, 1);
  EXPECT_EQ(counts.unadmitted, 1);
  EXPECT_EQ(counts.unchanged, 0);
  auto patches = apiserver_.Patches();
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].first, "uses-gold");
  const json& patch = patches[0].second;
  ASSERT_TRUE(patch.is_array());
  ASSERT_GE(patch.size(), 2u);
  EXPECT_EQ(patch[0], (json{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", "7"}}));
  bool writes_fresh = false;
  for (const json& op : patch) {
    writes_fresh |= op.contains("value") && op["value"] == StoredAnnotation({"gold"}, now);
  }
  EXPECT_TRUE(writes_fresh) << patch.dump();

  // A full pass looks at every advertisement: uses-silver is already right.
  counts = resolver_->Pass();
  EXPECT_EQ(counts.unchanged, 1);
  EXPECT_EQ(counts.unadmitted, 1);
  EXPECT_EQ(counts.rewritten, 1);  // the cache still holds uses-gold's old version
}

// Two stale advertisements (gold changed from 64512:1 to 64512:100 while they were stored).
void SetStaleAdvertisements(FakeApiserver& apiserver, std::vector<std::string> names) {
  const std::vector<community::CommunityAlias> before = {{"gold", "64512:1"}};
  apiserver.Set("communities",
                json::array({{{"metadata", {{"name", "tiers"}, {"namespace", kNs},
                                            {"resourceVersion", "3"}}},
                              {"spec", {{"communities", json::array({{{"name", "gold"},
                                                                      {"value", "64512:100"}}})}}}}}));
  json items = json::array();
  int rv = 7;
  for (const auto& name : names) {
    items.push_back(
        Advertisement(name, std::to_string(rv++), {"gold"}, StoredAnnotation({"gold"}, before)));
  }
  apiserver.Set("bgpadvertisements", items);
}

// A PATCH the validating webhook denies (403) is not sent again, however much time
// passes and however many passes run, until its inputs change: a trigger naming it (an
// alias it uses changed), a full trigger (leadership, a pool or peer change).
TEST_F(ResolverTest, ADeniedPatchIsHeldUntilItsInputsChange) {
  SetStaleAdvertisements(apiserver_, {"a"});
  Sync(1, 1);
  apiserver_.SetPatchStatus(403);
  ResolverCounts counts = resolver_->PassOver({"a"});
  EXPECT_EQ(counts.failed, 1);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(10min);
    counts = resolver_->Pass();
    EXPECT_EQ(counts.deferred, 1);
  }
  EXPECT_EQ(apiserver_.Patches().size(), 1u);
  resolver_->Trigger({"a"});
  EXPECT_EQ(resolver_->PassOver({"a"}).failed, 1);
  EXPECT_EQ(apiserver_.Patches().size(), 2u);
  EXPECT_EQ(resolver_->PassOver({"a"}).deferred, 1);
  resolver_->Trigger();
  apiserver_.SetPatchStatus(200);
  EXPECT_EQ(resolver_->Pass().rewritten, 1);
  EXPECT_EQ(apiserver_.Patches().size(), 3u);
}

// A transient failure (500, 429, 409) is retried per advertisement after 1 s, 2 s, 4 s ...
// on the resolver's clock; a success starts the next failure from 1 s again.
TEST_F(ResolverTest, ATransientPatchFailureBacksOffPerAdvertisement) {
  SetStaleAdvertisements(apiserver_, {"a"});
  Sync(1, 1);
  apiserver_.SetPatchStatus(500);
  auto patches_after = [&](kube::Duration advance) {
    clock_.Advance(advance);
    resolver_->PassOver({"a"});
    return apiserver_.Patches().size();
  };
  EXPECT_EQ(patches_after(0s), 1u);
  EXPECT_EQ(patches_after(999ms), 1u);
  EXPECT_EQ(patches_after(1ms), 2u);  // 1 s after the first
  EXPECT_EQ(patches_after(1s), 2u);
  EXPECT_EQ(patches_after(1s), 3u);  // 2 s after the second
  apiserver_.SetPatchStatus(429);
  EXPECT_EQ(patches_after(3s), 3u);
  EXPECT_EQ(patches_after(1s), 4u);  // 4 s after the third
  EXPECT_EQ(patches_after(7s), 4u);
  apiserver_.SetPatchStatus(200);
  EXPECT_EQ(patches_after(1s), 5u);  // 8 s after the fourth: rewritten
  apiserver_.SetPatchStatus(409);
  EXPECT_EQ(patches_after(0s), 6u);
  EXPECT_EQ(patches_after(1s), 7u);  // from 1 s again
}

// A PATCH admitted with the annotation rewritten by a mutating call (a webhook replica
// whose view is behind stores the old resolution: a no-op update, no event follows) is
// not taken as done: it is retried with the transient backoff until the stored value is
// the one sent.
TEST_F(ResolverTest, AnOverwrittenResolutionIsRetried) {
  SetStaleAdvertisements(apiserver_, {"a"});
  Sync(1, 1);
  apiserver_.SetOverwrite(StoredAnnotation({"gold"}, {{"gold", "64512:1"}}));
  EXPECT_EQ(resolver_->PassOver({"a"}).failed, 1);
  clock_.Advance(999ms);
  EXPECT_EQ(resolver_->PassOver({"a"}).deferred, 1);
  clock_.Advance(1ms);
  EXPECT_EQ(resolver_->PassOver({"a"}).failed, 1);
  EXPECT_EQ(apiserver_.Patches().size(), 2u);
  apiserver_.SetOverwrite(std::nullopt);
  clock_.Advance(2s);
  EXPECT_EQ(resolver_->PassOver({"a"}).rewritten, 1);
  EXPECT_EQ(apiserver_.Patches().size(), 3u);
}

// Leadership is asked before each PATCH, not once per pass: a term that ends during a
// pass stops the writes that remain.
TEST_F(ResolverTest, LeadershipIsAskedBeforeEachPatch) {
  SetStaleAdvertisements(apiserver_, {"a", "b", "c"});
  Sync(1, 3);
  int asked = 0;
  resolver_->GuardWrites([&] { return ++asked <= 1; });
  ResolverCounts counts = resolver_->Pass();
  EXPECT_EQ(counts.rewritten, 1);
  EXPECT_EQ(counts.not_leading, 2);
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(apiserver_.Patches().size(), 1u);
}

}  // namespace
}  // namespace bgpcomm::webhook
