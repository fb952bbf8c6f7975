#include "cli/routes_command.h"

#include "cli/options.h"
#include "cli/routes_preview.h"

namespace bgpcomm::cli {

int RunRoutes(const RoutesOptions& options, std::ostream& out, std::ostream& err) {
  PreviewOptions preview_options{options.node, options.load_balancer_class};
  auto head = BuildPreview(options.paths, preview_options);
  if (!head) {
    err << "error: " << head.error() << '\n';
    return kExitUnreadable;
  }
  bool json = options.output == OutputFormat::kJson;
  if (options.base_paths.empty()) {
    if (json) {
      out << PreviewJson(*head).dump(2, ' ', false,
                                     nlohmann::ordered_json::error_handler_t::replace)
          << '\n';
    } else {
      out << PreviewText(*head);
    }
    return kExitClean;
  }
  auto base = BuildPreview(options.base_paths, preview_options);
  if (!base) {
    err << "error: " << base.error() << '\n';
    return kExitUnreadable;
  }
  PreviewDiff diff = DiffPreviews(*base, *head);
  if (json) {
    out << DiffJson(diff).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
        << '\n';
  } else {
    out << DiffText(diff);
  }
  return diff.empty() ? kExitClean : kExitRoutesChanged;
}

}  // namespace bgpcomm::cli
