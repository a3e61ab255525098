// sockudoctl version: this client's version and the libraries it speaks through.
#include <iostream>
#include <string>

#include "cli/commands/commands.h"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"

namespace sockudo::cli {

void AddVersionCommand(CLI::App& root, Commands& commands) {
  CLI::App* version = root.add_subcommand("version", "print the version of sockudoctl");
  SetExamples(version, {"sockudoctl version", "sockudoctl version -o json"});
  commands.Bind(version, [](CommandEnv& env) {
    const std::string protobuf = google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION);
    nlohmann::json value = {{"clientVersion",
                             {{"version", SOCKUDO_VERSION},
                              {"api", "sockudo.controlplane.v1"},
                              {"grpc", grpc::Version()},
                              {"protobuf", protobuf}}}};
    switch (env.format()) {
      case output::Format::kJson:
        std::cout << output::JsonValueToJson(value);
        break;
      case output::Format::kYaml:
        std::cout << output::JsonValueToYaml(value);
        break;
      default:
        std::cout << "sockudoctl " << SOCKUDO_VERSION << " (API sockudo.controlplane.v1, gRPC "
                  << grpc::Version() << ", protobuf " << protobuf << ")\n";
    }
    return client::kExitOk;
  });
}

}  // namespace sockudo::cli
