#include "webhook/http_request.h"

#include <gtest/gtest.h>

namespace bgpcomm::webhook {
namespace {

using Status = RequestReader::Status;

constexpr char kReview[] =
    "POST /validate-metallb-io-v1beta1-community?timeout=5s HTTP/1.1\r\n"
    "Host: bgpcomm-webhook.metallb-system.svc:443\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 2\r\n"
    "\r\n"
    "{}";

TEST(RequestReader, ReadsWhatTheApiServerSends) {
  RequestReader reader({});
  ASSERT_EQ(reader.Feed(kReview), Status::kComplete);
  HttpRequest request = reader.TakeRequest();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/validate-metallb-io-v1beta1-community?timeout=5s");
  EXPECT_EQ(request.path, "/validate-metallb-io-v1beta1-community");
  EXPECT_EQ(request.minor_version, 1);
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("X-Missing"), "");
  EXPECT_EQ(request.body, "{}");
  EXPECT_TRUE(request.KeepAlive());
  EXPECT_FALSE(reader.started());
}

TEST(RequestReader, AByteAtATimeGivesTheSameRequest) {
  RequestReader reader({});
  std::string_view bytes(kReview);
  for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
    ASSERT_EQ(reader.Feed(bytes.substr(i, 1)), Status::kNeedMore) << "at byte " << i;
    EXPECT_TRUE(reader.started());
  }
  ASSERT_EQ(reader.Feed(bytes.substr(bytes.size() - 1)), Status::kComplete);
  EXPECT_EQ(reader.TakeRequest().body, "{}");
}

TEST(RequestReader, BytesAfterARequestStartTheNext) {
  RequestReader reader({});
  std::string two = std::string(kReview) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPO";
  ASSERT_EQ(reader.Feed(two), Status::kComplete);
  EXPECT_EQ(reader.TakeRequest().method, "POST");
  ASSERT_EQ(reader.Feed({}), Status::kComplete);
  HttpRequest second = reader.TakeRequest();
  EXPECT_EQ(second.method, "GET");
  EXPECT_EQ(second.path, "/healthz");
  EXPECT_EQ(second.body, "");
  EXPECT_EQ(reader.Feed({}), Status::kNeedMore);
  EXPECT_TRUE(reader.started());  // "PO" of a third
}

TEST(RequestReader, ConnectionHeaderAndVersionDecideKeepAlive) {
  auto keep_alive = [](const std::string& version, const std::string& connection) {
    RequestReader reader({});
    std::string head = "GET / " + version + "\r\n" +
                       (connection.empty() ? "" : "Connection: " + connection + "\r\n") + "\r\n";
    EXPECT_EQ(reader.Feed(head), Status::kComplete);
    return reader.TakeRequest().KeepAlive();
  };
  EXPECT_TRUE(keep_alive("HTTP/1.1", ""));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "close"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "Close"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", ""));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "keep-alive"));
}

TEST(RequestReader, ExpectContinueIsSeenOnceTheHeadIsIn) {
  RequestReader reader({});
  ASSERT_EQ(reader.Feed("POST /noop HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"),
            Status::kNeedMore);
  EXPECT_TRUE(reader.expects_continue());
  ASSERT_EQ(reader.Feed("{}"), Status::kComplete);
  reader.TakeRequest();
  EXPECT_FALSE(reader.expects_continue());
}

struct Refused {
  std::string bytes;
  int status;
  std::string reason;
};

class RequestReaderRefuses : public ::testing::TestWithParam<Refused> {};

TEST_P(RequestReaderRefuses, WithStatusAndReason) {
  RequestReader reader({});
  ASSERT_EQ(reader.Feed(GetParam().bytes), Status::kRejected);
  EXPECT_EQ(reader.rejection().status, GetParam().status);
  EXPECT_EQ(reader.rejection().reason, GetParam().reason);
  EXPECT_FALSE(reader.rejection().message.empty());
  // Nothing after a refusal is read as a request.
  EXPECT_EQ(reader.Feed("GET / HTTP/1.1\r\n\r\n"), Status::kRejected);
}

INSTANTIATE_TEST_SUITE_P(
    Heads, RequestReaderRefuses,
    ::testing::Values(
        Refused{"GARBAGE\r\n\r\n", 400, "bad_request_line"},
        Refused{"GET  HTTP/1.1\r\n\r\n", 400, "bad_request_line"},
        Refused{"GET relative HTTP/1.1\r\n\r\n", 400, "bad_request_line"},
        Refused{"G(T / HTTP/1.1\r\n\r\n", 400, "bad_request_line"},
        Refused{"GET / HTTP/2.0\r\n\r\n", 505, "unsupported_version"},
        Refused{"GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400, "bad_header"},
        Refused{"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "bad_header"},
        Refused{"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "bad_header"},
        Refused{"GET / HTTP/1.1\r\nX: a\nB: c\r\n\r\n", 400, "bad_header"},
        Refused{"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
                "duplicate_content_length"},
        Refused{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "transfer_encoding"},
        Refused{"POST / HTTP/1.1\r\n\r\n", 411, "length_required"},
        Refused{"POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413, "body_too_large"}));

TEST(RequestReader, AHeadOverTheLimitIsRefusedBeforeItEnds) {
  RequestReader reader({});
  std::string line = "X-Flood: " + std::string(1000, 'x') + "\r\n";
  Status status = reader.Feed("GET / HTTP/1.1\r\n");
  while (status == Status::kNeedMore) status = reader.Feed(line);
  EXPECT_EQ(status, Status::kRejected);
  EXPECT_EQ(reader.rejection().status, 431);
  EXPECT_EQ(reader.rejection().reason, "head_too_large");
}

TEST(RequestReader, TooManyHeadersAre431) {
  RequestReader reader({.max_body_bytes = 100, .max_headers = 3});
  ASSERT_EQ(reader.Feed("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"),
            Status::kRejected);
  EXPECT_EQ(reader.rejection().status, 431);
  EXPECT_EQ(reader.rejection().reason, "too_many_headers");
}

TEST(SerializeResponse, StatusLineHeadersAndBody) {
  EXPECT_EQ(SerializeResponse({.status = 200, .content_type = "application/json", .body = "{}"}),
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  EXPECT_EQ(SerializeResponse({.status = 413, .body = "too large\n", .close = true}),
            "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
            "Connection: close\r\n\r\ntoo large\n");
}

}  // namespace
}  // namespace bgpcomm::webhook
