#include "rules/phase_check.h"

#include <fmt/format.h>

#include "rules/identifier.h"
#include "rules/names.h"

namespace pgshim::rules {
namespace {

struct Checker {
  const SchemaCache& schema;
  const Migration& migration;
  std::size_t index;
  std::vector<PhaseProblem>& problems;

  [[nodiscard]] const TableInfo* table(const TableName& name) const {
    return schema.find_table(schema.resolve_schema(name.schema, name.name), name.name);
  }
  void report(std::string what) {
    problems.push_back({index, fmt::format("{}: migration '{}' is in phase {}, but {}", migration.file,
                                           migration.name, phase_name(migration.phase), what)});
  }
  // Only what the phase needs and is missing is a problem: a column or table
  // the phase no longer uses may still exist for a while (it is dropped after
  // the switch to contracted, or added before the switch to expanded).
  void expect_table(const TableName& name, bool present) {
    if (!present || table(name) != nullptr) return;
    report(fmt::format("table {} does not exist", display_table_name(name)));
  }
  void expect_column(const TableName& name, const std::string& column, bool present) {
    if (!present) return;
    const TableInfo* info = table(name);
    if (info == nullptr) {
      report(fmt::format("table {} does not exist", display_table_name(name)));
      return;
    }
    if (info->find(column) != nullptr) return;
    report(fmt::format("column {}.{} does not exist; run the DDL of this phase first", display_table_name(name), column));
  }
  void check_pair(const TableName& table_name, const std::string& from, const std::string& to) {
    const Phase p = migration.phase;
    expect_column(table_name, from, p != Phase::kContracted);
    expect_column(table_name, to, p != Phase::kPlanned);
  }
  void operator()(const RenameColumn& c) { check_pair(c.table, c.from, c.to); }
  void operator()(const RetypeColumn& c) { check_pair(c.table, c.from.name, c.to.name); }
  void operator()(const AddColumn& c) {
    expect_column(c.table, c.column.name, migration.phase != Phase::kPlanned);
  }
  void operator()(const DropColumn& c) {
    expect_column(c.table, c.column.name, migration.phase != Phase::kContracted);
  }
  void operator()(const RenameTable& c) {
    const bool contracted = migration.phase == Phase::kContracted;
    expect_table(c.from, !contracted);
    expect_table(c.to, contracted);
  }
};

}  // namespace

std::vector<PhaseProblem> check_phases(const RuleSet& rules, const SchemaCache& schema) {
  std::vector<PhaseProblem> problems;
  for (std::size_t i = 0; i < rules.migrations.size(); ++i) {
    Checker checker{schema, rules.migrations[i], i, problems};
    for (const auto& change : rules.migrations[i].changes) std::visit(checker, change.kind);
  }
  return problems;
}

}  // namespace pgshim::rules
