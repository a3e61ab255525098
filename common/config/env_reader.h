// File: env_reader.h
// The only place that reads process environment variables. Tests build an EnvReader from a map.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace sockudo::config {

// Returns the value of a variable; nullopt when unset. An empty value is returned as "".
using EnvReader = std::function<std::optional<std::string>(const std::string& name)>;

EnvReader ProcessEnv();
EnvReader MapEnv(std::map<std::string, std::string> values);

}  // namespace sockudo::config
