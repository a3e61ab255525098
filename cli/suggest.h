// File: suggest.h
// "Did you mean" for sockudoctl. CLI11 only says an argument was not expected; this walks the
// command line over the CLI11 command tree as the parser does (subcommands by name or alias,
// flags of the command and of its parents, skipping flag values) and finds the first word that
// names no command or flag, with the known names closest to it by edit distance.
//
//   auto problem = FindArgvProblem(root, {"apps", "lst"});
//   // problem.kind == kUnknownCommand, problem.word == "lst", problem.suggestions == {"list"}
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"

namespace sockudo::cli {

// Optimal string alignment distance (insertions, deletions, substitutions, transpositions).
size_t EditDistance(std::string_view a, std::string_view b);

// `candidates` within edit distance 1 (words of up to 4 letters) or 2 of `word`, or that start
// with it, closest first, at most three.
std::vector<std::string> Suggest(std::string_view word, const std::vector<std::string>& candidates);

struct ArgvProblem {
  enum Kind { kNone, kUnknownCommand, kUnknownFlag };
  Kind kind = kNone;
  std::string word;
  std::vector<std::string> suggestions;
  // The deepest command the words reached (the root when none); never null.
  const CLI::App* command = nullptr;
};

// `args` without the program name.
ArgvProblem FindArgvProblem(const CLI::App& root, const std::vector<std::string>& args);

}  // namespace sockudo::cli
