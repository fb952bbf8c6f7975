#include "speaker/restart_marker.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>

namespace bgpcomm::speaker {

std::expected<RestartMarker, std::string> RestartMarker::Begin(const std::string& dir,
                                                               bool& restarted) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return std::unexpected("--state-dir " + dir + ": " + ec.message());
  std::string path = (fs::path(dir) / "speaker.running").string();
  restarted = fs::exists(path, ec);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "pid " << getpid() << "\n";
    if (!out) return std::unexpected("--state-dir " + dir + ": cannot write " + tmp);
  }
  fs::rename(tmp, path, ec);
  if (ec) return std::unexpected("--state-dir " + dir + ": " + ec.message());
  return RestartMarker(std::move(path));
}

void RestartMarker::Remove() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace bgpcomm::speaker
