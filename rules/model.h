// The rule model: what a migration file says, after loading and validation
// (DESIGN.md section 2). Plain data; the loader fills it, the rewriter reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace pgshim::rules {

// What physically exists in the database (DESIGN.md section 3).
enum class Phase { kPlanned, kExpanded, kBackfilled, kContracted };

// Which schema version a client speaks.
enum class ClientVersion { kOld, kNew };

// A position in a rule file, for error messages (1-based line and column).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

// A possibly schema-qualified table name as written in the rule (identifiers
// already case-folded/unquoted as PostgreSQL would: `Users` -> users, `"Users"` -> Users).
struct TableName {
  std::string schema;  // "" = resolved by search_path
  std::string name;
  friend bool operator==(const TableName&, const TableName&) = default;
};

struct ColumnSpec {
  std::string name;
  std::string type;  // SQL type text as written, e.g. "bigint", "numeric(12,2)"
};

struct RenameColumn {
  TableName table;
  std::string from;
  std::string to;
};

struct RetypeColumn {
  TableName table;
  ColumnSpec from;
  ColumnSpec to;
  std::string up;    // SQL expression in terms of from.name
  std::string down;  // SQL expression in terms of to.name
};

struct AddColumn {
  TableName table;
  ColumnSpec column;
  std::string default_sql = "NULL";  // what a new client reads before it exists
};

struct DropColumn {
  TableName table;
  ColumnSpec column;
  std::string default_sql = "NULL";  // what an old client reads once it is gone
};

struct RenameTable {
  TableName from;
  TableName to;
};

using ChangeKind = std::variant<RenameColumn, RetypeColumn, AddColumn, DropColumn, RenameTable>;

struct Change {
  ChangeKind kind;
  SourcePos pos;  // where the change starts in its file
};

// A glob selector on startup parameters; an empty field matches anything.
struct VersionSelector {
  std::string application_name;
  std::string user;
  std::string database;
  [[nodiscard]] bool empty() const {
    return application_name.empty() && user.empty() && database.empty();
  }
};

struct Migration {
  std::string name;
  std::string database_glob;  // "" = all databases
  Phase phase = Phase::kPlanned;
  VersionSelector old_selector;
  VersionSelector new_selector;
  ClientVersion default_version = ClientVersion::kOld;
  bool strict = true;
  std::vector<Change> changes;
  std::string file;  // the file it came from
};

// All migrations loaded from one rules directory. `generation` changes whenever
// the rule set in force changes, so caches keyed on it never serve stale results.
struct RuleSet {
  std::vector<Migration> migrations;
  std::uint64_t generation = 0;
};

}  // namespace pgshim::rules
