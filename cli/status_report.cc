#include "cli/status_report.h"

#include <algorithm>
#include <ctime>
#include <iomanip>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "speaker/status_core.h"

namespace bgpcomm::cli {
namespace {

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::uint64_t U64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>()
         : it != j.end() && it->is_number_integer() ? static_cast<std::uint64_t>(std::max<std::int64_t>(0, it->get<std::int64_t>()))
                                                    : 0;
}

std::string Duration(std::int64_t seconds) {
  std::int64_t d = seconds / 86400, h = seconds / 3600 % 24, m = seconds / 60 % 60,
               s = seconds % 60;
  std::string out;
  if (d) out += std::to_string(d) + "d";
  if (d || h) out += std::to_string(h) + "h";
  if (d || h || m) out += std::to_string(m) + "m";
  return out + std::to_string(s) + "s";
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

}  // namespace

StatusReport BuildStatusReport(const std::vector<Preview>& predictions,
                               const std::vector<nlohmann::json>& sessions,
                               const std::vector<nlohmann::json>& configurations,
                               std::chrono::system_clock::time_point now) {
  StatusReport report;
  // node -> BGPPeer name -> the session's status object.
  std::map<std::string, std::map<std::string, nlohmann::json>> reported;
  for (const nlohmann::json& object : sessions) {
    const nlohmann::json status = object.value("status", nlohmann::json::object());
    std::string bgp_peer = Str(status, "bgpPeer");
    bgp_peer = bgp_peer.substr(bgp_peer.find('/') + 1);
    reported[Str(status, "node")][bgp_peer] = status;
  }
  std::map<std::string, const nlohmann::json*> speaker_configuration;
  for (const nlohmann::json& object : configurations) {
    const auto& meta = object.value("metadata", nlohmann::json::object());
    const auto labels = meta.value("labels", nlohmann::json::object());
    std::string component = Str(labels, "bgpcomm.io/component");
    if (component == "allocator") {
      report.allocator_configuration = Str(object.value("status", nlohmann::json::object()), "result");
      report.allocator_errors = Str(object.value("status", nlohmann::json::object()), "errorSummary");
    } else if (component == "speaker") {
      speaker_configuration[Str(labels, "bgpcomm.io/node")] = &object;
    }
  }
  std::set<std::pair<std::string, std::string>> refused_seen;
  for (const Preview& preview : predictions) {
    for (const RefusedObject& r : preview.refused) {
      if (refused_seen.insert({r.object.ToString(), r.reason}).second) report.refused.push_back(r);
    }
    for (const PreviewNode& predicted : preview.nodes) {
      StatusNode node{predicted.name, {}, {}, {}};
      if (auto c = speaker_configuration.find(node.name); c != speaker_configuration.end()) {
        const auto status = c->second->value("status", nlohmann::json::object());
        node.configuration = Str(status, "result");
        node.configuration_errors = Str(status, "errorSummary");
      }
      std::set<std::string> seen;
      auto& of_node = reported[node.name];
      for (const PreviewPeer& peer : predicted.peers) {
        seen.insert(peer.name);
        StatusSession s;
        s.bgp_peer = peer.name;
        s.peer = peer.address;
        for (const PreviewRoute& route : peer.routes) {
          if (route.not_sent.empty()) s.predicted.push_back(route.prefix);
        }
        std::sort(s.predicted.begin(), s.predicted.end());
        auto found = of_node.find(peer.name);
        if (found == of_node.end()) {
          s.state = "Unreported";
          s.last_error = "no BGPSessionState: the speaker of this node is not running or cannot write";
          s.missing = s.predicted;
        } else {
          const nlohmann::json& st = found->second;
          s.peer = Str(st, "peer");
          s.state = Str(st, "bgpStatus");
          s.bfd = Str(st, "bfdStatus");
          s.prefixes_sent = U64(st, "prefixesSent");
          s.last_error = Str(st, "lastError");
          s.unanswered_connects = U64(st, "unansweredConnects");
          if (auto since = ParseRfc3339(Str(st, "since")); since && s.state == "Established") {
            s.uptime_seconds =
                std::chrono::duration_cast<std::chrono::seconds>(now - *since).count();
          }
          auto listed = st.find("prefixes");
          if (listed != st.end() && listed->is_array()) {
            std::vector<std::string> sent = listed->get<std::vector<std::string>>();
            std::sort(sent.begin(), sent.end());
            std::set_difference(s.predicted.begin(), s.predicted.end(), sent.begin(), sent.end(),
                                std::back_inserter(s.missing));
            std::set_difference(sent.begin(), sent.end(), s.predicted.begin(), s.predicted.end(),
                                std::back_inserter(s.unexpected));
          } else {
            s.compared_by_digest = true;
            s.digest_differs =
                Str(st, "prefixesDigest") != speaker::status::PrefixesDigest(s.predicted);
          }
        }
        if (s.down()) ++report.sessions_down;
        report.routes_missing += static_cast<int>(s.missing.size()) + (s.digest_differs ? 1 : 0);
        node.sessions.push_back(std::move(s));
      }
      // Sessions the speaker reports that the prediction does not know (a BGPPeer that
      // no longer selects this node, an object not yet removed).
      for (const auto& [name, st] : of_node) {
        if (seen.contains(name)) continue;
        StatusSession s;
        s.bgp_peer = name;
        s.peer = Str(st, "peer");
        s.state = Str(st, "bgpStatus");
        s.prefixes_sent = U64(st, "prefixesSent");
        s.last_error = Str(st, "lastError");
        node.sessions.push_back(std::move(s));
      }
      report.nodes.push_back(std::move(node));
    }
  }
  return report;
}

std::string StatusText(const StatusReport& report) {
  std::ostringstream out;
  for (const StatusNode& node : report.nodes) {
    out << "node " << node.name;
    if (!node.configuration.empty()) out << " (configuration " << node.configuration << ")";
    out << "\n";
    if (!node.configuration_errors.empty()) out << "  refused: " << node.configuration_errors << "\n";
    for (const StatusSession& s : node.sessions) {
      out << "  " << s.bgp_peer << " " << s.peer << " " << s.state;
      if (s.uptime_seconds) out << " up " << Duration(*s.uptime_seconds);
      out << " prefixes-sent " << s.prefixes_sent;
      if (!s.bfd.empty() && s.bfd != "N/A") out << " bfd " << s.bfd;
      if (s.down()) out << "  SESSION DOWN";
      out << "\n";
      if (s.down() && !s.last_error.empty()) out << "    last error: " << s.last_error << "\n";
      if (s.unanswered_connects) out << "    unanswered connects: " << s.unanswered_connects << "\n";
      if (!s.missing.empty()) out << "    missing (predicted, not sent): " << Join(s.missing) << "\n";
      if (!s.unexpected.empty()) out << "    sent, not predicted: " << Join(s.unexpected) << "\n";
      if (s.digest_differs) {
        out << "    routes differ: " << s.predicted.size() << " predicted, " << s.prefixes_sent
            << " sent (digest differs)\n";
      }
    }
  }
  for (const RefusedObject& r : report.refused) {
    out << "refused " << r.object.ToString() << ": " << r.reason << "\n";
  }
  if (!report.allocator_configuration.empty()) {
    out << "allocator configuration " << report.allocator_configuration;
    if (!report.allocator_errors.empty()) out << ": " << report.allocator_errors;
    out << "\n";
  }
  out << (report.healthy() ? "healthy" : "UNHEALTHY") << ": " << report.sessions_down
      << " session(s) down, " << report.routes_missing << " route(s) missing\n";
  return out.str();
}

nlohmann::ordered_json StatusJson(const StatusReport& report) {
  nlohmann::ordered_json j;
  j["nodes"] = nlohmann::ordered_json::array();
  for (const StatusNode& node : report.nodes) {
    nlohmann::ordered_json n;
    n["name"] = node.name;
    n["configuration"] = node.configuration;
    n["configurationErrors"] = node.configuration_errors;
    n["sessions"] = nlohmann::ordered_json::array();
    for (const StatusSession& s : node.sessions) {
      nlohmann::ordered_json o;
      o["bgpPeer"] = s.bgp_peer;
      o["peer"] = s.peer;
      o["state"] = s.state;
      o["down"] = s.down();
      o["bfd"] = s.bfd;
      o["uptimeSeconds"] = s.uptime_seconds ? nlohmann::ordered_json(*s.uptime_seconds) : nullptr;
      o["prefixesSent"] = s.prefixes_sent;
      o["lastError"] = s.last_error;
      o["unansweredConnects"] = s.unanswered_connects;
      o["predicted"] = s.predicted;
      o["missing"] = s.missing;
      o["unexpected"] = s.unexpected;
      o["digestDiffers"] = s.digest_differs;
      n["sessions"].push_back(o);
    }
    j["nodes"].push_back(n);
  }
  j["refused"] = nlohmann::ordered_json::array();
  for (const RefusedObject& r : report.refused) {
    j["refused"].push_back({{"object", r.object.ToString()}, {"reason", r.reason}});
  }
  j["allocator"] = {{"configuration", report.allocator_configuration},
                    {"errors", report.allocator_errors}};
  j["sessionsDown"] = report.sessions_down;
  j["routesMissing"] = report.routes_missing;
  j["healthy"] = report.healthy();
  return j;
}

}  // namespace bgpcomm::cli
