// Which schema version a client speaks (DESIGN.md section 2), decided once at
// startup from the StartupMessage parameters (PostgreSQL protocol, "Message
// Formats", StartupMessage): application_name, user, database, and the
// `pgshim.version` custom setting carried in `options`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/model.h"

namespace pgshim::rules {

inline constexpr std::string_view kVersionSetting = "pgshim.version";

// The startup parameters that decide a client's version. The caller fills
// `database` as PostgreSQL does: the user name when the client sent none.
struct StartupParams {
  std::string application_name;
  std::string user;
  std::string database;
  std::optional<ClientVersion> version_option;  // `pgshim.version` from options
};

// Splits the `options` startup parameter into arguments like PostgreSQL's
// pg_split_opts: separated by whitespace; a backslash makes the next character
// literal (`\ ` is a space inside an argument, `\\` a backslash).
[[nodiscard]] std::vector<std::string> split_startup_options(std::string_view options);

// A run-time setting given in `options`, as `-c name=value`, `-cname=value` or
// `--name=value` (dashes in the name read as underscores, as PostgreSQL does).
struct OptionSetting {
  std::string name;
  std::string value;
  friend bool operator==(const OptionSetting&, const OptionSetting&) = default;
};

// The settings in `options`, in order (a later one overrides an earlier one).
// Other switches (`-d 1`, `-e`) are skipped with their arguments; a setting
// without `=value` is reported in `error` and skipped.
[[nodiscard]] std::vector<OptionSetting> parse_option_settings(std::string_view options,
                                                               std::string& error);

// Reads `pgshim.version` (its name is case-insensitive, its value old or new, also
// case-insensitive) from `options`. Returns false with a message for the client
// when it is malformed; `version` stays nullopt when the setting is absent.
[[nodiscard]] bool parse_version_option(std::string_view options,
                                        std::optional<ClientVersion>& version,
                                        std::string& error);

// Whole-string glob match: `*` matches any run of characters (also none), `?`
// any one character; everything else matches itself, case-sensitively.
[[nodiscard]] bool glob_match(std::string_view pattern, std::string_view text);

// Whether some string matches both globs (so two rules could apply to one name).
[[nodiscard]] bool globs_overlap(std::string_view a, std::string_view b);

// A selector matches when every non-empty field matches its glob; an empty
// selector (one the rule file does not give) matches nothing.
[[nodiscard]] bool selector_matches(const VersionSelector& selector, const StartupParams& params);

// In order: the `pgshim.version` option; then the selectors (when exactly one
// matches; when both match, the client is ambiguous and falls through); then the
// migration's default.
[[nodiscard]] ClientVersion decide_version(const Migration& migration,
                                           const StartupParams& params);

// Whether the migration's `database` glob covers `database` (no glob: all).
[[nodiscard]] bool migration_applies_to_database(const Migration& migration,
                                                 std::string_view database);

}  // namespace pgshim::rules
