#include "cli/certs_command.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "certs/inspect.h"
#include "cli/app.h"

namespace bgpcomm::cli {
namespace {

std::string Read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class CertsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "bgpcomm-certs-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(CertsCommandTest, WritesACaAndAServingPairForTheNames) {
  std::ostringstream out, err;
  std::string out_dir = (dir_ / "certs").string();
  const char* argv[] = {"bgpcomm",     "certs", "--out",     out_dir.c_str(),    "--dns",
                        "hook.ns.svc", "--ip",  "127.0.0.1", "--validity-hours", "48"};
  ASSERT_EQ(RunCli(10, argv, out, err), 0) << err.str();
  EXPECT_EQ(out.str(), out_dir + "/ca.crt\n" + out_dir + "/ca.key\n" + out_dir + "/tls.crt\n" +
                           out_dir + "/tls.key\n");
  auto leaf = Read(dir_ / "certs/tls.crt");
  auto ca = Read(dir_ / "certs/ca.crt");
  auto info = certs::InspectCertificate(leaf);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->dns_names, std::vector<std::string>{"hook.ns.svc"});
  EXPECT_EQ(info->not_after - info->not_before, std::chrono::hours(49));  // 1 h backdated
  EXPECT_TRUE(certs::VerifyCertificate(leaf, ca, std::chrono::system_clock::now()));
  EXPECT_TRUE(certs::KeyMatchesCertificate(leaf, Read(dir_ / "certs/tls.key")));
  auto perms = std::filesystem::status(dir_ / "certs/tls.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_read, std::filesystem::perms::none);
}

TEST_F(CertsCommandTest, RefusesWithoutAName) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCerts({.out_dir = dir_.string()}, out, err), 2);
  EXPECT_EQ(err.str(), "bgpcomm certs: give at least one --dns or --ip\n");
}

}  // namespace
}  // namespace bgpcomm::cli
