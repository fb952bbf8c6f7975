// bgpcomm: the command line (see cli/app.h).
#include <iostream>

#include "cli/app.h"

int main(int argc, char** argv) { return bgpcomm::cli::RunCli(argc, argv, std::cout, std::cerr); }
