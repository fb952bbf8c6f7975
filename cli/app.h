// The `bgpcomm` command line: flags parsed with CLI11, dispatched to the subcommands.
#pragma once

#include <ostream>

namespace bgpcomm::cli {

// Runs `bgpcomm` with `argv` (argv[0] is the program name). Help goes to `out`; usage
// errors go to `err` and return kExitUnreadable.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace bgpcomm::cli
