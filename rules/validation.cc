#include "rules/validation.h"

#include <optional>
#include <string>
#include <type_traits>

#include "rules/identifier.h"
#include "rules/version_match.h"

namespace pgshim::rules {
namespace {

// What a change touches: one column of a table, or (column empty) the whole table.
struct Touch {
  TableName table;
  std::string column;
};

std::vector<Touch> touches(const Change& change) {
  return std::visit(
      [](const auto& c) -> std::vector<Touch> {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, RenameColumn>) {
          return {{c.table, c.from}, {c.table, c.to}};
        } else if constexpr (std::is_same_v<T, RetypeColumn>) {
          return {{c.table, c.from.name}, {c.table, c.to.name}};
        } else if constexpr (std::is_same_v<T, RenameTable>) {
          return {{c.from, ""}, {c.to, ""}};
        } else {
          return {{c.table, c.column.name}};
        }
      },
      change.kind);
}

// The first pair of touches of `a` and `b` that overlap, described for a message.
std::optional<std::string> overlap(const Change& a, const Change& b) {
  for (const Touch& x : touches(a)) {
    for (const Touch& y : touches(b)) {
      if (!may_be_same_table(x.table, y.table)) continue;
      if (x.column.empty() || y.column.empty()) {
        return "table " + display_table_name(y.table);
      }
      if (x.column == y.column) {
        return "column " + display_table_name(y.table) + "." + display_identifier(y.column);
      }
    }
  }
  return std::nullopt;
}

bool renames_table(const Change& change) {
  return std::holds_alternative<RenameTable>(change.kind);
}

std::string where(const SourcePos& pos) {
  return pos.file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

// The database glob a migration applies to, "*" for all.
std::string_view database_glob(const Migration& migration) {
  if (migration.database_glob.empty()) return "*";
  return migration.database_glob;
}

void check_pair(const ParsedMigration& earlier, const ParsedMigration& later,
                std::vector<LoadError>& errors) {
  const Migration& a = earlier.migration;
  const Migration& b = later.migration;
  if (!globs_overlap(database_glob(a), database_glob(b))) return;
  for (const Change& second : b.changes) {
    for (const Change& first : a.changes) {
      const std::optional<std::string> what = overlap(first, second);
      if (!what) continue;
      const std::string fix = renames_table(first) || renames_table(second)
                                  ? "a table being renamed cannot be changed by another active "
                                    "migration"
                                  : "two active migrations cannot change the same column";
      errors.push_back(LoadError{
          b.file, second.pos.line, second.pos.column,
          *what + " is also changed by migration '" + a.name + "' (" + where(first.pos) +
              "); " + fix + ": finish that one (contracted, then remove its file) first"});
      break;
    }
  }
}

}  // namespace

void check_changes_within(const Migration& migration, Diagnostics& diag) {
  const std::vector<Change>& changes = migration.changes;
  for (std::size_t j = 1; j < changes.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      const std::optional<std::string> what = overlap(changes[i], changes[j]);
      if (!what) continue;
      const std::string line = std::to_string(changes[i].pos.line);
      if (renames_table(changes[i]) || renames_table(changes[j])) {
        diag.report(changes[j].pos, *what + " is also changed by the change at line " + line +
                                        "; a table being renamed cannot have other changes in "
                                        "the same migration, so move one to another migration");
      } else {
        diag.report(changes[j].pos, *what + " is also changed by the change at line " + line +
                                        "; change each column only once per migration (merge "
                                        "the two changes)");
      }
      break;
    }
  }
}

void check_across_migrations(const std::vector<ParsedMigration>& migrations,
                             std::vector<LoadError>& errors) {
  for (std::size_t j = 1; j < migrations.size(); ++j) {
    for (std::size_t i = 0; i < j; ++i) {
      const ParsedMigration& earlier = migrations[i];
      const ParsedMigration& later = migrations[j];
      if (earlier.migration.name == later.migration.name) {
        errors.push_back(LoadError{later.migration.file, later.name_pos.line,
                                   later.name_pos.column,
                                   "migration name '" + later.migration.name +
                                       "' is already used by " + where(earlier.name_pos) +
                                       "; give each migration a unique name"});
      }
      check_pair(earlier, later, errors);
    }
  }
}

}  // namespace pgshim::rules
