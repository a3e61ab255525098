#include "cli/suggest.h"

#include <algorithm>
#include <utility>

namespace sockudo::cli {
namespace {

std::vector<const CLI::App*> Subcommands(const CLI::App* app) {
  std::vector<const CLI::App*> named;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_name().empty()) named.push_back(sub);
  }
  return named;
}

const CLI::App* FindSubcommand(const CLI::App* app, const std::string& word) {
  for (const CLI::App* sub : Subcommands(app)) {
    if (sub->get_name() == word) return sub;
    for (const auto& alias : sub->get_aliases()) {
      if (alias == word) return sub;
    }
  }
  return nullptr;
}

// The option `name` ("--server", "-o") of `app` or of a parent (options fall through).
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
    if (const CLI::Option* option = at->get_option_no_throw(name)) return option;
  }
  return nullptr;
}

std::vector<std::string> LongFlags(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::App* at = app; at != nullptr; at = at->get_parent()) {
    for (const CLI::Option* option : at->get_options()) {
      for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    }
  }
  return names;
}

bool LooksLikeNumber(const std::string& word) {
  return word.size() > 1 && word[0] == '-' &&
         (std::isdigit(static_cast<unsigned char>(word[1])) || word[1] == '.');
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::vector<std::string> Suggest(std::string_view word,
                                 const std::vector<std::string>& candidates) {
  std::vector<std::pair<size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    size_t distance = EditDistance(word, candidate);
    const bool prefix = word.size() >= 2 && candidate.rfind(word, 0) == 0;
    if (prefix) distance = std::min<size_t>(distance, 1);
    const size_t limit = word.size() <= 4 ? 1 : 2;
    if (distance <= limit && distance < std::max(candidate.size(), word.size())) {
      scored.emplace_back(distance, candidate);
    }
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> names;
  for (auto& [distance, name] : scored) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    if (names.size() == 3) break;
  }
  return names;
}

ArgvProblem FindArgvProblem(const CLI::App& root, const std::vector<std::string>& args) {
  ArgvProblem problem;
  const CLI::App* current = &root;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") break;
    if (word.size() > 1 && word[0] == '-' && !LooksLikeNumber(word)) {
      std::string name = word;
      bool inline_value = false;
      if (word.rfind("--", 0) == 0) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) {
          name = word.substr(0, eq);
          inline_value = true;
        }
      } else {
        name = word.substr(0, 2);  // -o json, -ojson
        inline_value = word.size() > 2;
      }
      const CLI::Option* option = FindOption(current, name);
      if (option == nullptr) {
        problem.kind = ArgvProblem::kUnknownFlag;
        problem.word = name;
        if (name.rfind("--", 0) == 0) problem.suggestions = Suggest(name, LongFlags(current));
        break;
      }
      if (option->get_type_size_max() > 0 && !inline_value) ++i;  // its value
      continue;
    }
    if (Subcommands(current).empty()) continue;  // a positional argument of a leaf
    if (const CLI::App* sub = FindSubcommand(current, word)) {
      current = sub;
      continue;
    }
    problem.kind = ArgvProblem::kUnknownCommand;
    problem.word = word;
    std::vector<std::string> names;
    for (const CLI::App* sub : Subcommands(current)) {
      names.push_back(sub->get_name());
      for (const auto& alias : sub->get_aliases()) names.push_back(alias);
    }
    problem.suggestions = Suggest(word, names);
    // An alias suggested stands for its command: show the command's name instead.
    for (auto& suggestion : problem.suggestions) {
      if (const CLI::App* sub = FindSubcommand(current, suggestion)) suggestion = sub->get_name();
    }
    problem.suggestions.erase(std::unique(problem.suggestions.begin(), problem.suggestions.end()),
                              problem.suggestions.end());
    break;
  }
  problem.command = current;
  return problem;
}

}  // namespace sockudo::cli
