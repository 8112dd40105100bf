#include "rules/version_match.h"

#include <cctype>
#include <vector>

#include "rules/names.h"

namespace pgshim::rules {
namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Switches of PostgreSQL's postgres getopt string "B:bc:C:D:d:EeFf:h:ijk:lN:nOPp:r:S:sTt:v:W:-:"
// that take an argument.
bool takes_argument(char flag) {
  constexpr std::string_view kWithArgument = "BcCDdfhkNprStvW-";
  return kWithArgument.find(flag) != std::string_view::npos;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ParseLongOption: `name=value`, dashes in the name read as underscores.
void add_setting(char flag, const std::string& argument, std::vector<OptionSetting>& settings,
                 std::string& error) {
  const std::size_t equal = argument.find('=');
  if (equal == std::string::npos) {
    error = (flag == '-' ? "--" : "-c ") + argument + " requires a value";
    return;
  }
  OptionSetting setting{argument.substr(0, equal), argument.substr(equal + 1)};
  for (char& c : setting.name) {
    if (c == '-') c = '_';
  }
  settings.push_back(std::move(setting));
}

}  // namespace

std::vector<std::string> split_startup_options(std::string_view options) {
  std::vector<std::string> args;
  std::size_t i = 0;
  while (i < options.size()) {
    while (i < options.size() && is_space(options[i])) ++i;
    if (i == options.size()) break;
    std::string arg;
    bool escaped = false;
    for (; i < options.size(); ++i) {
      const char c = options[i];
      if (is_space(c) && !escaped) break;
      if (!escaped && c == '\\') {
        escaped = true;
      } else {
        escaped = false;
        arg += c;
      }
    }
    args.push_back(std::move(arg));
  }
  return args;
}

std::vector<OptionSetting> parse_option_settings(std::string_view options, std::string& error) {
  const std::vector<std::string> args = split_startup_options(options);
  std::vector<OptionSetting> settings;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') continue;  // not a switch
    for (std::size_t j = 1; j < arg.size(); ++j) {
      const char flag = arg[j];
      if (!takes_argument(flag)) continue;
      std::string argument;
      if (j + 1 < arg.size()) {
        argument = arg.substr(j + 1);
      } else if (i + 1 < args.size()) {
        argument = args[++i];
      } else {
        error = "-" + std::string(1, flag) + " requires an argument";
        break;
      }
      if (flag == 'c' || flag == '-') add_setting(flag, argument, settings, error);
      break;  // the argument used up the rest of this word
    }
  }
  return settings;
}

bool parse_version_option(std::string_view options, std::optional<ClientVersion>& version,
                          std::string& error) {
  std::string parse_error;
  const std::vector<OptionSetting> settings = parse_option_settings(options, parse_error);
  version.reset();
  for (const OptionSetting& setting : settings) {
    if (lower_ascii(setting.name) != kVersionSetting) continue;
    const std::optional<ClientVersion> parsed = parse_client_version(lower_ascii(setting.value));
    if (!parsed) {
      error = "invalid value for parameter \"pgshim.version\": \"" + setting.value +
              "\"; use old or new";
      return false;
    }
    version = parsed;
  }
  return true;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point: the last `*` seen can absorb one more character.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool globs_overlap(std::string_view a, std::string_view b) {
  // reach[i][j]: some string takes a's first i symbols and b's first j symbols
  // to the same point. A `*` may match nothing or swallow one more character.
  std::vector<std::vector<char>> reach(a.size() + 1, std::vector<char>(b.size() + 1, 0));
  reach[0][0] = 1;
  for (std::size_t i = 0; i <= a.size(); ++i) {
    for (std::size_t j = 0; j <= b.size(); ++j) {
      if (!reach[i][j]) continue;
      const bool a_star = i < a.size() && a[i] == '*';
      const bool b_star = j < b.size() && b[j] == '*';
      if (a_star) reach[i + 1][j] = 1;
      if (b_star) reach[i][j + 1] = 1;
      if (a_star && j < b.size() && !b_star) reach[i][j + 1] = 1;
      if (b_star && i < a.size() && !a_star) reach[i + 1][j] = 1;
      if (i < a.size() && j < b.size() && !a_star && !b_star &&
          (a[i] == b[j] || a[i] == '?' || b[j] == '?')) {
        reach[i + 1][j + 1] = 1;
      }
    }
  }
  return reach[a.size()][b.size()] != 0;
}

bool selector_matches(const VersionSelector& selector, const StartupParams& params) {
  if (selector.empty()) return false;
  const auto field_matches = [](const std::string& glob, const std::string& value) {
    return glob.empty() || glob_match(glob, value);
  };
  return field_matches(selector.application_name, params.application_name) &&
         field_matches(selector.user, params.user) &&
         field_matches(selector.database, params.database);
}

ClientVersion decide_version(const Migration& migration, const StartupParams& params) {
  if (params.version_option) return *params.version_option;
  const bool old_matches = selector_matches(migration.old_selector, params);
  const bool new_matches = selector_matches(migration.new_selector, params);
  if (old_matches && !new_matches) return ClientVersion::kOld;
  if (new_matches && !old_matches) return ClientVersion::kNew;
  return migration.default_version;
}

bool migration_applies_to_database(const Migration& migration, std::string_view database) {
  return migration.database_glob.empty() || glob_match(migration.database_glob, database);
}

}  // namespace pgshim::rules
