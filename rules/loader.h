// Loading and validating rule files (DESIGN.md section 2): one YAML file per
// migration, a rules directory holding several. Every problem is reported with
// file, line and column and a sentence saying how to fix it; nothing throws.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "rules/model.h"

namespace pgshim::rules {

// One problem in a rule file. Line and column are 1-based; both are 0 when the
// problem concerns the whole file (it cannot be read) or directory.
struct LoadError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;  // what is wrong, then how to fix it
  friend bool operator==(const LoadError&, const LoadError&) = default;
};

// "file:line:column: message" (or "file: message"), the form compilers use, so
// editors and CI annotate the right spot.
[[nodiscard]] std::string format_error(const LoadError& error);

// Either the rules (with a fresh generation) or every error found, sorted by
// file, line and column. Never both.
class LoadResult {
 public:
  explicit LoadResult(RuleSet rules) : value_(std::move(rules)) {}
  explicit LoadResult(std::vector<LoadError> errors) : value_(std::move(errors)) {}

  [[nodiscard]] bool ok() const { return std::holds_alternative<RuleSet>(value_); }
  // Preconditions: ok() for rules(), !ok() for a non-empty errors().
  [[nodiscard]] const RuleSet& rules() const { return std::get<RuleSet>(value_); }
  [[nodiscard]] RuleSet& rules() { return std::get<RuleSet>(value_); }
  [[nodiscard]] const std::vector<LoadError>& errors() const;

 private:
  std::variant<RuleSet, std::vector<LoadError>> value_;
};

// Loads one migration from YAML text; `file_name` is used in errors and in
// Migration::file. The rule set holds exactly that migration.
[[nodiscard]] LoadResult load_rule_text(std::string_view text, const std::string& file_name);

// Loads one rule file.
[[nodiscard]] LoadResult load_rule_file(const std::filesystem::path& path);

// Loads every *.yaml and *.yml file of `dir` (not subdirectories, not hidden
// files such as editor locks or ConfigMap internals), sorted by name, and checks
// them against each other: unique migration names, and no column changed by two
// migrations whose databases may overlap. An empty directory is a valid empty set.
[[nodiscard]] LoadResult load_rules_dir(const std::filesystem::path& dir);

}  // namespace pgshim::rules
