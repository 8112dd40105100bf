// Rule files the integration tests share.
#pragma once

#include <string>
#include <string_view>

#include <fmt/format.h>

namespace pgshim::testing {

// A strict migration that renames users.fullname to display_name in `database`,
// for clients whose application_name starts with `old_app` (old, the default) or
// `new_app` (new); `more_changes` (YAML list items, indented by two) is appended
// to its changes.
inline std::string rename_users_rule(std::string_view migration, std::string_view database,
                                     std::string_view phase, std::string_view old_app,
                                     std::string_view new_app, std::string_view more_changes = "") {
  return fmt::format(R"(migration: {}
database: {}
phase: {}
versions:
  old: {{ application_name: "{}*" }}
  new: {{ application_name: "{}*" }}
  default: old
strict: true
changes:
  - rename_column:
      table: users
      from: fullname
      to: display_name
{})",
                     migration, database, phase, old_app, new_app, more_changes);
}

}  // namespace pgshim::testing
