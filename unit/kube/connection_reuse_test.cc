// Kept-alive connections of kube::Client: reuse, a server that closes them, the retry
// that may not do anything twice, deadlines on a reused connection, and WATCH on a
// connection of its own.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <set>
#include <thread>

#include "kube/client.h"
#include "unit/kube/apiserver_fixtures.h"
#include "unit/kube/test_support.h"

namespace bgpcomm::kube {
namespace {

using namespace bgpcomm::kube::testing;
using namespace std::chrono_literals;

constexpr char kCollection[] = "/apis/metallb.io/v1beta1/namespaces/metallb-system/communities";

std::unique_ptr<Client> NewClient(const std::string& url, ClientOptions options = {}) {
  options.request_timeout = std::chrono::seconds(5);
  auto client = Client::New(RestConfig{.server = url}, std::move(options));
  EXPECT_TRUE(client) << client.error().message;
  return std::move(*client);
}

// Serves GET and PUT of communities, counting requests and the client ports they came
// from (one port per connection).
struct CountingServer {
  explicit CountingServer(std::size_t keep_alive_max_count) : server(keep_alive_max_count) {
    auto answer = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard lock(mu);
        ports.insert(req.remote_port);
        ++(req.method == "PUT" ? puts : gets);
      }
      if (req.matches[1] == "slow") std::this_thread::sleep_for(2s);
      res.set_content(CommunityJson(req.matches[1], "7"), "application/json");
    };
    server.server().Get(std::string(kCollection) + "/(.+)", answer);
    server.server().Put(std::string(kCollection) + "/(.+)", answer);
  }
  std::size_t Connections() {
    std::lock_guard lock(mu);
    return ports.size();
  }
  int Puts() {
    std::lock_guard lock(mu);
    return puts;
  }

  TestServer server;
  std::mutex mu;
  std::set<int> ports;
  int gets = 0;
  int puts = 0;
};

nlohmann::json Body(const std::string& name) {
  return nlohmann::json::parse(CommunityJson(name, "7"));
}

TEST(ConnectionReuseTest, SequentialCallsShareOneConnection) {
  CountingServer counting(100);
  counting.server.Start();
  auto client = NewClient(counting.server.Url());
  for (int i = 0; i < 10; ++i) {
    auto got = client->Get(kCommunities, "metallb-system", "c" + std::to_string(i));
    ASSERT_TRUE(got) << got.error().ToString();
    auto put = client->Replace(kCommunities, "metallb-system", "c", Body("c"));
    ASSERT_TRUE(put) << put.error().ToString();
  }
  EXPECT_EQ(client->ConnectionsOpened(), 1u);
  EXPECT_EQ(counting.Connections(), 1u);
  EXPECT_EQ(counting.Puts(), 10);
}

TEST(ConnectionReuseTest, NoPoolMeansAConnectionPerCall) {
  CountingServer counting(100);
  counting.server.Start();
  auto client = NewClient(counting.server.Url(), {.max_idle_connections = 0});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  EXPECT_EQ(client->ConnectionsOpened(), 3u);
  EXPECT_EQ(counting.Connections(), 3u);
}

TEST(ConnectionReuseTest, ConnectionCloseFromTheServerIsHonoured) {
  CountingServer counting(/*keep_alive_max_count=*/2);  // closes after every second answer
  counting.server.Start();
  auto client = NewClient(counting.server.Url());
  for (int i = 0; i < 6; ++i) {
    auto put = client->Replace(kCommunities, "metallb-system", "c", Body("c"));
    ASSERT_TRUE(put) << i << ": " << put.error().ToString();
  }
  EXPECT_EQ(client->ConnectionsOpened(), 3u);
  EXPECT_EQ(counting.Puts(), 6);
}

TEST(ConnectionReuseTest, ThreadsCallingAtOnceEachGetAConnection) {
  CountingServer counting(1000);
  counting.server.Start();
  auto client = NewClient(counting.server.Url(), {.max_idle_connections = 4});
  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i)
          ok += client->Replace(kCommunities, "metallb-system", "c", Body("c")).has_value();
      });
  }
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(counting.Puts(), 100);
  // At most one connection per thread calling at once, then kept: far fewer than calls.
  EXPECT_GE(client->ConnectionsOpened(), 1u);
  EXPECT_LE(client->ConnectionsOpened(), 4u);
}

TEST(ConnectionReuseTest, AConnectionIdleTooLongIsReplaced) {
  CountingServer counting(100);
  counting.server.Start();
  auto client = NewClient(counting.server.Url(), {.idle_timeout = 50ms});
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  EXPECT_EQ(client->ConnectionsOpened(), 1u);
  std::this_thread::sleep_for(100ms);  // longer than idle_timeout: the point of the test
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
}

TEST(ConnectionReuseTest, AnIdleConnectionTheServerClosedIsNotWrittenTo) {
  CountingServer counting(100);
  counting.server.server().set_keep_alive_timeout(1);  // seconds
  counting.server.Start();
  auto client = NewClient(counting.server.Url());
  ASSERT_TRUE(client->Replace(kCommunities, "metallb-system", "c", Body("c")));
  std::this_thread::sleep_for(1500ms);  // the server closes the idle connection meanwhile
  auto put = client->Replace(kCommunities, "metallb-system", "c", Body("c"));
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
  EXPECT_EQ(counting.Puts(), 2);
}

TEST(ConnectionReuseTest, CallDeadlineBoundsACallOnAReusedConnection) {
  CountingServer counting(100);
  counting.server.Start();
  auto client = NewClient(counting.server.Url());
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));  // now pooled
  const auto start = std::chrono::steady_clock::now();
  {
    CallDeadline deadline(200ms);
    auto slow = client->Replace(kCommunities, "metallb-system", "slow", Body("slow"));
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error().http_status, 0);
  }
  // The server answers after 2 s; the 30 s request timeout was cut to the deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  // The connection that timed out is not pooled: the next call works on a new one.
  auto got = client->Get(kCommunities, "metallb-system", "c");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
}

TEST(ConnectionReuseTest, AGetThatTimedOutOnAReusedConnectionIsNotRetried) {
  CountingServer counting(100);
  counting.server.Start();
  auto client = Client::New(RestConfig{.server = counting.server.Url()},
                            {.request_timeout = 300ms});
  ASSERT_TRUE(client);
  ASSERT_TRUE((*client)->Get(kCommunities, "metallb-system", "c"));  // now pooled
  const auto start = std::chrono::steady_clock::now();
  auto slow = (*client)->Get(kCommunities, "metallb-system", "slow");
  ASSERT_FALSE(slow);
  // A slow server is not a closed connection: one timeout, not two.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 550ms);
  std::lock_guard lock(counting.mu);
  EXPECT_EQ(counting.gets, 2);
}

TEST(ConnectionReuseTest, WatchStreamsOnAConnectionOfItsOwn) {
  TestServer server(100);
  int watches = 0;
  std::set<int> ports;
  std::mutex mu;
  server.server().Get(kCollection, [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu);
      ports.insert(req.remote_port);
      ++watches;
    }
    res.set_content(WatchEventLine("ADDED", CommunityJson("a", "2")), "application/json");
  });
  server.server().Get(std::string(kCollection) + "/(.+)",
                      [&](const httplib::Request& req, httplib::Response& res) {
                        {
                          std::lock_guard lock(mu);
                          ports.insert(req.remote_port);
                        }
                        res.set_content(CommunityJson(req.matches[1], "1"), "application/json");
                      });
  server.Start();
  auto client = NewClient(server.Url());
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  int events = 0;
  auto watched = client->Watch(kCommunities, "metallb-system", {}, [&](WatchEvent&&) {
    ++events;
    return true;
  });
  ASSERT_TRUE(watched) << watched.error().ToString();
  EXPECT_EQ(events, 1);
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  // The GETs shared the pooled connection; the watch had one of its own.
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
  std::lock_guard lock(mu);
  EXPECT_EQ(ports.size(), 2u);
  EXPECT_EQ(watches, 1);
}

// A loopback HTTP/1.1 server by hand, for what httplib::Server cannot do: read a request
// on a kept-alive connection and close it without answering. `answer(connection, index)`
// says whether the index-th request (from 0) of the connection-th connection (from 0) is
// answered.
class ClosingServer {
 public:
  explicit ClosingServer(std::function<bool(int connection, int request)> answer)
      : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this] { Serve(); });
  }
  ~ClosingServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // "METHOD PATH" of every request read, answered or not.
  std::vector<std::string> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (int connection = 0;; ++connection) {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string buffer;
      for (int request = 0;; ++request) {
        std::string head;
        if (!ReadRequest(conn, buffer, head)) break;
        {
          std::lock_guard lock(mu_);
          requests_.push_back(head.substr(0, head.find(" HTTP/")));
        }
        if (!answer_(connection, request)) break;
        const std::string body = CommunityJson("c", "3");
        const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                     "Content-Length: " +
                                     std::to_string(body.size()) + "\r\n\r\n" + body;
        if (::send(conn, response.data(), response.size(), MSG_NOSIGNAL) < 0) break;
      }
      ::close(conn);
    }
  }
  // One request (head and Content-Length body) from `conn`; its first line in `head`.
  static bool ReadRequest(int conn, std::string& buffer, std::string& head) {
    char chunk[4096];
    std::size_t end;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(conn, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    std::size_t length = 0;
    std::string lower = buffer.substr(0, end);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = lower.find("content-length:"); at != std::string::npos)
      length = std::strtoul(lower.c_str() + at + 15, nullptr, 10);
    while (buffer.size() < end + 4 + length) {
      ssize_t n = ::recv(conn, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    head = buffer.substr(0, buffer.find("\r\n"));
    buffer.erase(0, end + 4 + length);
    return true;
  }

  std::function<bool(int, int)> answer_;
  int fd_ = -1;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::jthread thread_;
};

// The first connection answers its first request, then reads the second and closes.
bool SecondRequestDropped(int connection, int request) { return connection > 0 || request == 0; }

TEST(ConnectionReuseTest, AGetDroppedOnAReusedConnectionIsRetriedOnANewOne) {
  ClosingServer server(SecondRequestDropped);
  auto client = NewClient(server.Url());
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  auto got = client->Get(kCommunities, "metallb-system", "c");
  ASSERT_TRUE(got) << got.error().ToString();
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
  EXPECT_EQ(server.Requests().size(), 3u);
}

TEST(ConnectionReuseTest, AWriteDroppedAfterItWasSentIsNotSentTwice) {
  ClosingServer server(SecondRequestDropped);
  auto client = NewClient(server.Url());
  ASSERT_TRUE(client->Get(kCommunities, "metallb-system", "c"));
  // The server read the whole PUT and may have acted on it: the caller is told, and
  // decides (a status write re-reads the object and decides again).
  auto put = client->Replace(kCommunities, "metallb-system", "c", Body("c"));
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().http_status, 0);
  EXPECT_EQ(server.Requests(),
            (std::vector<std::string>{"GET " + std::string(kCollection) + "/c",
                                      "PUT " + std::string(kCollection) + "/c"}));
  // The next call opens a new connection and works.
  ASSERT_TRUE(client->Replace(kCommunities, "metallb-system", "c", Body("c")));
  EXPECT_EQ(client->ConnectionsOpened(), 2u);
}

TEST(ConnectionReuseTest, AGetDroppedOnANewConnectionIsNotRetried) {
  ClosingServer server([](int, int) { return false; });
  auto client = NewClient(server.Url());
  auto got = client->Get(kCommunities, "metallb-system", "c");
  ASSERT_FALSE(got);
  EXPECT_EQ(server.Requests().size(), 1u);
}

}  // namespace
}  // namespace bgpcomm::kube
