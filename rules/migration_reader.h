// Internal to the rule loader: one rule file's text into a Migration.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/loader.h"
#include "rules/model.h"

namespace pgshim::rules {

// A migration with where its name is written, for duplicate-name errors.
struct ParsedMigration {
  Migration migration;
  SourcePos name_pos;
};

// Parses and validates one file on its own (syntax, keys, values, expressions,
// conflicts between its changes). Appends every problem to `errors` and returns
// nullopt if there was any. Never throws.
[[nodiscard]] std::optional<ParsedMigration> read_migration(std::string_view text,
                                                            const std::string& file,
                                                            std::vector<LoadError>& errors);

}  // namespace pgshim::rules
