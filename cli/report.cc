#include "cli/report.h"

namespace bgpcomm::cli {
namespace {

std::string_view SeverityName(community::Severity severity) {
  return severity == community::Severity::kError ? "error" : "warning";
}

std::string ObjectName(const manifest::Document& doc) {
  return doc.kind + "/" + (doc.name.empty() ? std::string("<unnamed>") : doc.name);
}

}  // namespace

std::string FormatFinding(const manifest::ManifestSet& set, const Finding& finding) {
  const manifest::Document& doc = set.documents.at(finding.document);
  const community::Diagnostic& diagnostic = finding.diagnostic;
  std::string out = doc.file;
  out += ':';
  out += std::to_string(doc.LineOf(diagnostic.field));
  out += ": ";
  out += ObjectName(doc);
  out += ": ";
  out += diagnostic.field;
  out += ": ";
  out += SeverityName(diagnostic.severity);
  out += ": ";
  out += diagnostic.message;
  return out;
}

std::string FormatLoadError(const manifest::LoadError& error) {
  std::string out = error.file;
  if (error.line > 0) out += ":" + std::to_string(error.line);
  out += ": error: ";
  out += error.message;
  return out;
}

void WriteFindingsText(const manifest::ManifestSet& set, const SetJudgment& judgment,
                       std::ostream& out) {
  for (const Finding& finding : judgment.findings) out << FormatFinding(set, finding) << '\n';
}

void WriteLoadErrorsText(std::span<const manifest::LoadError> errors, std::ostream& out) {
  for (const manifest::LoadError& error : errors) out << FormatLoadError(error) << '\n';
}

nlohmann::ordered_json ReportJson(const manifest::ManifestSet& set, const SetJudgment* judgment,
                                  std::string_view default_namespace) {
  nlohmann::ordered_json diagnostics = nlohmann::ordered_json::array();
  for (const manifest::LoadError& error : set.errors) {
    diagnostics.push_back({{"file", error.file},
                           {"line", error.line},
                           {"kind", ""},
                           {"name", ""},
                           {"namespace", ""},
                           {"field", ""},
                           {"severity", "error"},
                           {"message", error.message}});
  }
  if (judgment != nullptr) {
    for (const Finding& finding : judgment->findings) {
      const manifest::Document& doc = set.documents.at(finding.document);
      diagnostics.push_back({{"file", doc.file},
                             {"line", doc.LineOf(finding.diagnostic.field)},
                             {"kind", doc.kind},
                             {"name", doc.name},
                             {"namespace", EffectiveNamespace(doc, default_namespace)},
                             {"field", finding.diagnostic.field},
                             {"severity", SeverityName(finding.diagnostic.severity)},
                             {"message", finding.diagnostic.message}});
    }
  }
  nlohmann::ordered_json report;
  report["diagnostics"] = std::move(diagnostics);
  report["counts"] = {{"files", set.files.size()},
                      {"objects", judgment != nullptr ? judgment->objects : 0},
                      {"errors", judgment != nullptr ? judgment->errors : 0},
                      {"warnings", judgment != nullptr ? judgment->warnings : 0},
                      {"unreadable", set.errors.size()}};
  return report;
}

}  // namespace bgpcomm::cli
