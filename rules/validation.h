// Internal to the rule loader: checks between changes. A column may be changed by
// one change only, within a migration and across the active migrations of a rules
// directory (DESIGN.md section 2), and a table being renamed is changed by nothing
// else, because the rewriter could not tell which name the other change means.
#pragma once

#include <vector>

#include "rules/migration_reader.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {

// Conflicts between the changes of one migration, reported at the later change.
void check_changes_within(const Migration& migration, Diagnostics& diag);

// Conflicts between migrations (in load order): duplicate names, and changes to
// the same column by migrations whose databases may overlap, reported in the later
// file with the position in the earlier one.
void check_across_migrations(const std::vector<ParsedMigration>& migrations,
                             std::vector<LoadError>& errors);

}  // namespace pgshim::rules
