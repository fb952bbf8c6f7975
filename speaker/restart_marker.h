// How the speaker knows it restarted (RFC 4724 Restart State bit): a marker file in a state
// directory that outlives the process but not the node's boot (the chart mounts a hostPath
// under /run, a tmpfs, so a rolling update or a crash keeps it and a reboot clears it).
// Written at start; removed at exit unless sessions were left to their peers' graceful
// restart, so that the next start sets the bit exactly when routes may still be held stale.
#pragma once

#include <expected>
#include <string>

namespace bgpcomm::speaker {

class RestartMarker {
 public:
  // Creates DIR (if needed) and DIR/speaker.running. Returns whether the marker was already
  // there: a previous speaker on this node ended without removing it (killed, crashed, or
  // stopped for a restart with graceful restart). An error names the path and the reason.
  static std::expected<RestartMarker, std::string> Begin(const std::string& dir, bool& restarted);

  // Removes the marker (a stop after which no peer holds our routes).
  void Remove();
  const std::string& path() const { return path_; }

 private:
  explicit RestartMarker(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace bgpcomm::speaker
