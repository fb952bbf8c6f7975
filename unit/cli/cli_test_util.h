// Helpers for the CLI tests: a scratch folder per test and in-process runs of `bgpcomm`.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/app.h"

namespace bgpcomm::cli::testing {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `bgpcomm ARGS...` in-process.
inline RunResult RunBgpcomm(std::vector<std::string> args) {
  args.insert(args.begin(), "bgpcomm");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  std::ostringstream out, err;
  RunResult result;
  result.code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// The lines of `text`, without their newlines.
inline std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) out.push_back(line);
  return out;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A fresh folder under the system temp folder, removed after the test.
class ScratchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("bgpcomm-cli-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` to dir/relative and returns its path as a string.
  std::string Write(const std::string& relative, const std::string& text) {
    std::filesystem::path path = dir_ / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
    return path.string();
  }

  // Copies examples/walkthrough into dir/walkthrough and returns that folder.
  std::string CopyWalkthrough() {
    std::filesystem::path target = dir_ / "walkthrough";
    std::filesystem::copy(BGPCOMM_SOURCE_DIR "/examples/walkthrough", target,
                          std::filesystem::copy_options::recursive);
    return target.string();
  }

  // Replaces the first `from` in dir/relative by `to`.
  void Edit(const std::string& relative, const std::string& from, const std::string& to) {
    std::filesystem::path path = dir_ / relative;
    std::string text = ReadFile(path);
    auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(path) << text;
  }

  std::string Path(const std::string& relative) const { return (dir_ / relative).string(); }

  std::filesystem::path dir_;
};

}  // namespace bgpcomm::cli::testing
