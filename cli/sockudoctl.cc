#include "cli/sockudoctl.h"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands/commands.h"
#include "cli/suggest.h"
#include "grpc/support/log.h"

namespace sockudo::cli {
namespace {

constexpr const char* kDescription =
    "sockudoctl drives a sockudo cluster through its control plane (gRPC): apps, nodes, users, "
    "channels, events.";

constexpr const char* kRootFooter = R"(Examples:
  sockudoctl apps create chat
  sockudoctl apps list -o wide
  sockudoctl channels list --app chat
  sockudoctl users terminate alice --app chat
  sockudoctl cluster watch
  sockudoctl --server cp.example.com:443 --tls --token "$TOKEN" cluster status

Connection: --server > SOCKUDO_SERVER > the context's server > 127.0.0.1:50051
            (--token > SOCKUDO_TOKEN > the context's token; --app > SOCKUDO_APP > the context's app)
Contexts:   sockudoctl config --help
Exit codes: 0 ok, 1 the server said no (its code and message are printed), 2 usage error,
            3 the control plane could not be reached (the address is printed))";

int ReportParseError(const CLI::App& root, const std::vector<std::string>& args,
                     const CLI::ParseError& error) {
  const ArgvProblem problem = FindArgvProblem(root, args);
  const std::string path = CommandPath(problem.command);
  switch (problem.kind) {
    case ArgvProblem::kUnknownCommand:
      std::cerr << "Error: unknown command \"" << problem.word << "\" for \"" << path << "\"\n";
      break;
    case ArgvProblem::kUnknownFlag:
      std::cerr << "Error: unknown flag: " << problem.word << "\n";
      break;
    case ArgvProblem::kNone:
      std::cerr << "Error: " << error.what() << "\n";
      break;
  }
  if (!problem.suggestions.empty()) {
    std::cerr << "\nDid you mean this?\n";
    for (const auto& suggestion : problem.suggestions) std::cerr << "\t" << suggestion << "\n";
    std::cerr << "\n";
  }
  std::cerr << "Run '" << path << " --help' for usage.\n";
  return client::kExitUsage;
}

}  // namespace

// gRPC's own log lines (a failed TLS handshake, say) would come before our message and say the
// same less clearly; GRPC_VERBOSITY brings them back for debugging.
void QuietGrpcLog(gpr_log_func_args*) {}

int Run(int argc, char** argv) {
  if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(QuietGrpcLog);
  CLI::App root(kDescription, "sockudoctl");
  // Inherited by every subcommand created below: global flags work after any command, one
  // subcommand per level, a help column wide enough for the longest flags.
  root.fallthrough();
  root.require_subcommand(0, 1);
  root.get_formatter()->column_width(44);
  root.set_version_flag("--version", std::string("sockudoctl ") + SOCKUDO_VERSION);

  GlobalFlags flags;
  AddGlobalFlags(root, flags);
  Commands commands;
  AddAppsCommand(root, commands);
  AddClusterCommand(root, commands);
  AddUsersCommand(root, commands);
  AddChannelsCommand(root, commands);
  AddPublishCommand(root, commands);
  AddConfigCommand(root, commands);
  AddVersionCommand(root, commands);
  AddCompletionCommand(root, commands);
  root.footer(kRootFooter);  // after the subcommands, which would inherit it

  const std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(root, args, e);
  }

  if (commands.selected() == nullptr) {
    // Only a group (or nothing) was named: its help, as `sockudoctl apps --help` prints it.
    const CLI::App* group = FindArgvProblem(root, args).command;
    const CLI::App* parent = group->get_parent();
    std::cout << group->help(parent != nullptr ? CommandPath(parent) : "");
    return client::kExitOk;
  }
  CommandEnv env(flags, commands.selected());
  return commands.Run(env);
}

}  // namespace sockudo::cli
