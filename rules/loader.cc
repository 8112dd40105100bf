#include "rules/loader.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "rules/migration_reader.h"
#include "rules/validation.h"

namespace pgshim::rules {
namespace {

// Every successful load gets a new generation, process-wide, so caches keyed on
// it never mix two rule sets. 0 is never handed out: it marks "no rules loaded".
std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

LoadResult finish(std::vector<ParsedMigration> parsed, std::vector<LoadError> errors) {
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const LoadError& a, const LoadError& b) {
      return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    return LoadResult(std::move(errors));
  }
  RuleSet rules;
  for (ParsedMigration& migration : parsed) rules.migrations.push_back(std::move(migration.migration));
  rules.generation = next_generation();
  return LoadResult(std::move(rules));
}

bool read_text_file(const std::filesystem::path& path, std::string& text,
                    std::vector<LoadError>& errors) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  const int open_errno = errno;
  if (in) {
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in.bad()) {
      text = std::move(buffer).str();
      return true;
    }
  }
  errors.push_back(LoadError{path.string(), 0, 0,
                             std::string("cannot read the file (") +
                                 (open_errno != 0 ? std::strerror(open_errno) : "read error") +
                                 "); check that it exists and is readable"});
  return false;
}

bool is_rule_file_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;  // editor locks, ConfigMap ..data
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

// The rule files of `dir`, sorted by name.
bool list_rule_files(const std::filesystem::path& dir, std::vector<std::filesystem::path>& files,
                     std::vector<LoadError>& errors) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    errors.push_back(LoadError{dir.string(), 0, 0,
                               "is not a readable directory; point --rules at the directory "
                               "that holds the rule files"});
    return false;
  }
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (is_rule_file_name(name) && std::filesystem::is_regular_file(it->path(), type_ec)) {
      files.push_back(it->path());
    }
  }
  if (ec) {
    errors.push_back(LoadError{dir.string(), 0, 0,
                               "cannot list the directory (" + ec.message() +
                                   "); check its permissions"});
    return false;
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.filename().string() < b.filename().string();
  });
  return true;
}

}  // namespace

std::string format_error(const LoadError& error) {
  if (error.line <= 0) return error.file + ": " + error.message;
  return error.file + ":" + std::to_string(error.line) + ":" + std::to_string(error.column) +
         ": " + error.message;
}

const std::vector<LoadError>& LoadResult::errors() const {
  static const std::vector<LoadError> kNone;
  if (const auto* errors = std::get_if<std::vector<LoadError>>(&value_)) return *errors;
  return kNone;
}

LoadResult load_rule_text(std::string_view text, const std::string& file_name) {
  std::vector<LoadError> errors;
  std::vector<ParsedMigration> parsed;
  if (auto migration = read_migration(text, file_name, errors)) {
    parsed.push_back(std::move(*migration));
  }
  return finish(std::move(parsed), std::move(errors));
}

LoadResult load_rule_file(const std::filesystem::path& path) {
  std::vector<LoadError> errors;
  std::string text;
  if (!read_text_file(path, text, errors)) return LoadResult(std::move(errors));
  return load_rule_text(text, path.string());
}

LoadResult load_rules_dir(const std::filesystem::path& dir) {
  std::vector<LoadError> errors;
  std::vector<std::filesystem::path> files;
  if (!list_rule_files(dir, files, errors)) return LoadResult(std::move(errors));
  std::vector<ParsedMigration> parsed;
  for (const std::filesystem::path& file : files) {
    std::string text;
    if (!read_text_file(file, text, errors)) continue;
    if (auto migration = read_migration(text, file.string(), errors)) {
      parsed.push_back(std::move(*migration));
    }
  }
  check_across_migrations(parsed, errors);
  return finish(std::move(parsed), std::move(errors));
}

}  // namespace pgshim::rules
