#include "cli/lint.h"

#include "cli/set_check.h"
#include "manifest/loader.h"

namespace bgpcomm::cli {

int RunLint(const CheckOptions& options, std::ostream& out, std::ostream& err) {
  manifest::ManifestSet set =
      manifest::LoadPaths(options.paths, {.standard_input = options.standard_input});
  if (!set.ok()) {
    if (options.output == OutputFormat::kJson) {
      out << ReportJson(set, nullptr, options.namespace_name)
                 .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
          << '\n';
    } else {
      WriteLoadErrorsText(set.errors, err);
    }
    return kExitUnreadable;
  }
  community::AdmissionOptions admission = ToAdmissionOptions(options);
  NamespaceStates namespaces = BuildNamespaces(set, options.namespace_name);
  SetJudgment judgment = JudgeSet(set, namespaces, admission);
  if (options.output == OutputFormat::kJson) {
    out << ReportJson(set, &judgment, options.namespace_name)
               .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
        << '\n';
  } else {
    WriteFindingsText(set, judgment, out);
  }
  return judgment.errors > 0 ? kExitProblems : kExitClean;
}

}  // namespace bgpcomm::cli
