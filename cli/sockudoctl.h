// File: sockudoctl.h
// The sockudoctl program: builds the command tree (global flags, one group per commands/ file),
// parses the command line with CLI11, turns parse errors into exit code 2 with a "did you mean"
// where a word names no command or flag, and runs the parsed command.
#pragma once

namespace sockudo::cli {

// Exit codes: client/rpc_status.h (0 ok, 1 server said no, 2 usage, 3 server unreachable).
int Run(int argc, char** argv);

}  // namespace sockudo::cli
