// bgpcomm's version: the chart's appVersion (charts/bgpcomm/Chart.yaml), read by CMake at
// configure time, so the binaries, the chart and the image (whose tag defaults to
// appVersion) carry one number.
#pragma once

#include <string_view>

namespace bgpcomm {

// e.g. "0.1.0".
std::string_view Version();

}  // namespace bgpcomm
