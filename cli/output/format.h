// File: format.h
// The `-o` formats of sockudoctl and the machine-readable printers: JSON through protobuf's JSON
// mapping (lowerCamelCase names, int64 as strings, enums by name, zero values printed so `jq`
// finds every field) and YAML through yaml-cpp (the same field names, but numbers as numbers and
// strings quoted wherever YAML would read them as something else). Tables are in table.h.
//
//   auto format = output::ParseFormat("yaml");   // std::optional<Format>
//   std::cout << output::ToYaml(app);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace sockudo::cli::output {

enum class Format { kTable, kWide, kJson, kYaml };

// "table", "wide", "json", "yaml"; nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view name);
// The names above, for --help and completion.
inline constexpr const char* kFormatNames[] = {"table", "wide", "json", "yaml"};

// Pretty JSON (two-space indent) ending with a newline.
std::string ToJson(const google::protobuf::Message& message);
// One JSON object on one line with a newline: a stream of these is what `jq` reads.
std::string ToJsonLine(const google::protobuf::Message& message);
// A YAML document (block style) ending with a newline.
std::string ToYaml(const google::protobuf::Message& message);

// The same printers for values that are not protobuf messages (config, version).
std::string JsonValueToJson(const nlohmann::json& value);
std::string JsonValueToYaml(const nlohmann::json& value);

}  // namespace sockudo::cli::output
