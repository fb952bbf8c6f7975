#include "manifest/document.h"

#include <string>

namespace bgpcomm::manifest {

std::string LoadError::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  out += message;
  return out;
}

void FieldLines::Record(std::string path, int line) { lines_.try_emplace(std::move(path), line); }

int FieldLines::Find(std::string_view path, int fallback) const {
  std::string key(path);
  while (!key.empty()) {
    if (auto it = lines_.find(key); it != lines_.end()) return it->second;
    // Drop the last component: `.name` or `[index]`.
    std::size_t cut = std::string::npos;
    if (key.back() == ']') {
      cut = key.rfind('[');
    } else {
      std::size_t dot = key.rfind('.');
      std::size_t bracket = key.rfind(']');
      if (dot != std::string::npos && (bracket == std::string::npos || dot > bracket)) {
        cut = dot;
      } else if (bracket != std::string::npos) {
        cut = bracket + 1;
      }
    }
    if (cut == std::string::npos || cut == 0) break;
    key.resize(cut);
  }
  return fallback;
}

}  // namespace bgpcomm::manifest
