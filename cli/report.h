// How `bgpcomm lint` and `bgpcomm resolve` report problems: text lines
// `FILE:LINE: Kind/name: field.path: error: message`, or one JSON object.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

#include "cli/set_check.h"
#include "manifest/document.h"

namespace bgpcomm::cli {

enum class OutputFormat { kText, kJson };

// `FILE:LINE: Kind/name: field: severity: message`; LINE is the field's line, else its
// nearest parent's, else the object's.
std::string FormatFinding(const manifest::ManifestSet& set, const Finding& finding);

// `FILE:LINE: error: message` (`FILE: error: message` without a line).
std::string FormatLoadError(const manifest::LoadError& error);

// One line per finding.
void WriteFindingsText(const manifest::ManifestSet& set, const SetJudgment& judgment,
                       std::ostream& out);
// One line per load error.
void WriteLoadErrorsText(std::span<const manifest::LoadError> errors, std::ostream& out);

// Dump with error_handler_t::replace: messages may quote invalid UTF-8 from the input.
// {"diagnostics":[{"file","line","kind","name","namespace","field","severity","message"}],
//  "counts":{"files","objects","errors","warnings","unreadable"}}. Load errors appear as
// diagnostics with empty kind, name, namespace and field, and are counted as unreadable.
// `judgment` may be null (nothing judged because the input was unreadable).
nlohmann::ordered_json ReportJson(const manifest::ManifestSet& set, const SetJudgment* judgment,
                                  std::string_view default_namespace);

}  // namespace bgpcomm::cli
