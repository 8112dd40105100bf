// A RuleSet compiled for the rewriter: changes grouped by table (a rename_table
// and the column changes of that table form one group), up/down expressions cut
// into templates once, phases and strictness per migration. Built once per
// rules generation and shared read-only between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "parser/expression_template.h"
#include "rules/model.h"

namespace pgshim::rules {

enum class ColumnChangeKind : std::uint8_t { kRename, kRetype, kAdd, kDrop };

// One column change. rename/retype: old_name -> new_name. add_column: only
// new_name (the new version has it). drop_column: only old_name.
struct CompiledColumnChange {
  ColumnChangeKind kind = ColumnChangeKind::kRename;
  std::uint32_t migration = 0;
  std::uint32_t change = 0;
  std::string old_name;
  std::string new_name;
  std::string old_type;  // retype: from.type; drop: the column's type
  std::string new_type;  // retype: to.type; add: the column's type
  parser::ExpressionTemplate up;    // retype: holes at old_name
  parser::ExpressionTemplate down;  // retype: holes at new_name
  std::string default_sql;          // add/drop: what a client reads while it is not there
};

// One table the rules touch. Without a rename_table both names are equal.
struct CompiledTable {
  TableName old_name;
  TableName new_name;
  int rename_migration = -1;  // the migration of the rename_table, if any
  std::uint32_t rename_change = 0;
  std::vector<CompiledColumnChange> columns;
};

struct CompiledMigration {
  std::string name;
  Phase phase = Phase::kPlanned;
  bool strict = true;
};

class RewriteRules {
 public:
  // Fails with a sentence when an up/down expression does not parse or there
  // are more than 64 migrations (ClientProfile's bit sets).
  [[nodiscard]] static std::variant<RewriteRules, std::string> compile(
      const RuleSet& rules, std::optional<Phase> phase_override = std::nullopt);

  [[nodiscard]] const std::vector<CompiledTable>& tables() const { return tables_; }
  [[nodiscard]] const std::vector<CompiledMigration>& migrations() const { return migrations_; }
  [[nodiscard]] std::uint64_t generation() const { return generation_; }
  // Every table name (old and new) the pre-filter must look for.
  [[nodiscard]] std::vector<std::string> table_names() const;

 private:
  std::vector<CompiledTable> tables_;
  std::vector<CompiledMigration> migrations_;
  std::uint64_t generation_ = 0;
};

}  // namespace pgshim::rules
