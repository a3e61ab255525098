// sockudoctl: the command line of the sockudo control plane (cli/sockudoctl.h).
#include <exception>
#include <iostream>

#include "cli/sockudoctl.h"

int main(int argc, char** argv) {
  try {
    return sockudo::cli::Run(argc, argv);
  } catch (const std::exception& e) {  // a bug, not a user error: say so instead of aborting
    std::cerr << "Error: internal: " << e.what() << "\n";
    return 1;
  }
}
