#include "webhook/request_guard.h"

#include <gtest/gtest.h>

namespace bgpcomm::webhook {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(CheckRequestHead, AcceptsAnOrdinaryPost) {
  EXPECT_EQ(CheckRequestHead("POST",
                             {{"Content-Type", "application/json"}, {"Content-Length", "120"}}, {}),
            std::nullopt);
  EXPECT_EQ(CheckRequestHead("GET", {{"Host", "x"}}, {}), std::nullopt);
}

struct Case {
  std::string method;
  Headers headers;
  int status;
  std::string reason;
};

class CheckRequestHeadRefuses : public ::testing::TestWithParam<Case> {};

TEST_P(CheckRequestHeadRefuses, WithStatusAndReason) {
  auto rejection = CheckRequestHead(GetParam().method, GetParam().headers, {});
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->status, GetParam().status);
  EXPECT_EQ(rejection->reason, GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CheckRequestHeadRefuses,
    ::testing::Values(
        Case{"POST",
             {{"Content-Length", "2"}, {"content-length", "40"}},
             400,
             "duplicate_content_length"},
        Case{"POST",
             {{"Content-Length", "2"}, {"Transfer-Encoding", "chunked"}},
             400,
             "transfer_encoding"},
        Case{"POST", {{"TRANSFER-ENCODING", "chunked"}}, 400, "transfer_encoding"},
        Case{"POST", {{"Content-Length", "-1"}}, 400, "bad_content_length"},
        Case{"POST", {{"Content-Length", "1e3"}}, 400, "bad_content_length"},
        Case{"POST", {{"Content-Length", ""}}, 400, "bad_content_length"},
        Case{"POST", {{"Content-Length", "99999999999999999999999"}}, 400, "bad_content_length"},
        Case{"POST", {{"Content-Length", "7340033"}}, 413, "body_too_large"},
        Case{"POST", {}, 411, "length_required"},
        Case{"POST", Headers(101, {"X", "y"}), 431, "too_many_headers"}));

TEST(IsJsonContentType, AcceptsParametersAndCase) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON"));
  EXPECT_FALSE(IsJsonContentType("application/jsonp"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType(""));
}

}  // namespace
}  // namespace bgpcomm::webhook
