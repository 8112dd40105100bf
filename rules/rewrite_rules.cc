#include "rules/rewrite_rules.h"

#include <algorithm>


namespace pgshim::rules {
namespace {

// Same table as far as rule files can tell: the same name, and the same schema
// unless one of them is left to search_path.
bool same_table(const TableName& a, const TableName& b) {
  return a.name == b.name && (a.schema.empty() || b.schema.empty() || a.schema == b.schema);
}

CompiledTable& table_for(std::vector<CompiledTable>& tables, const TableName& name) {
  for (CompiledTable& t : tables) {
    if (same_table(t.old_name, name) || same_table(t.new_name, name)) return t;
  }
  tables.push_back(CompiledTable{name, name, -1, 0, {}});
  return tables.back();
}

bool compile_template(parser::ExpressionTemplate& out, const std::string& sql, const std::string& column,
                      const std::string& what, const Migration& m, std::string& error) {
  std::string why;
  if (out.compile(sql, column, why)) return true;
  error = m.file + ": migration " + m.name + ": " + what + " does not parse: " + why;
  return false;
}

// Adds the column change `change` (index `ci` of migration `mi`) to its table.
bool add_column_change(std::vector<CompiledTable>& tables, const Migration& m, std::uint32_t mi,
                       std::uint32_t ci, std::string& error) {
  const ChangeKind& kind = m.changes[ci].kind;
  CompiledColumnChange c;
  c.migration = mi;
  c.change = ci;
  const TableName* table = nullptr;
  if (const auto* r = std::get_if<RenameColumn>(&kind)) {
    c.kind = ColumnChangeKind::kRename, c.old_name = r->from, c.new_name = r->to, table = &r->table;
  } else if (const auto* t = std::get_if<RetypeColumn>(&kind)) {
    c.kind = ColumnChangeKind::kRetype, table = &t->table;
    c.old_name = t->from.name, c.new_name = t->to.name, c.old_type = t->from.type, c.new_type = t->to.type;
    if (!compile_template(c.up, t->up, c.old_name, "up", m, error)) return false;
    if (!compile_template(c.down, t->down, c.new_name, "down", m, error)) return false;
  } else if (const auto* a = std::get_if<AddColumn>(&kind)) {
    c.kind = ColumnChangeKind::kAdd, c.new_name = a->column.name, c.new_type = a->column.type;
    c.default_sql = a->default_sql, table = &a->table;
  } else if (const auto* d = std::get_if<DropColumn>(&kind)) {
    c.kind = ColumnChangeKind::kDrop, c.old_name = d->column.name, c.old_type = d->column.type;
    c.default_sql = d->default_sql, table = &d->table;
  } else {
    return true;
  }
  table_for(tables, *table).columns.push_back(std::move(c));
  return true;
}

}  // namespace

std::variant<RewriteRules, std::string> RewriteRules::compile(const RuleSet& rules,
                                                              std::optional<Phase> phase_override) {
  RewriteRules out;
  out.generation_ = rules.generation;
  if (rules.migrations.size() > 64) return std::string("more than 64 migrations in one rules directory");
  // Table renames first, so that column changes find their table under either name.
  for (std::uint32_t mi = 0; mi < rules.migrations.size(); ++mi) {
    const Migration& m = rules.migrations[mi];
    out.migrations_.push_back(CompiledMigration{m.name, phase_override.value_or(m.phase), m.strict});
    for (std::uint32_t ci = 0; ci < m.changes.size(); ++ci) {
      if (const auto* r = std::get_if<RenameTable>(&m.changes[ci].kind)) {
        out.tables_.push_back(CompiledTable{r->from, r->to, static_cast<int>(mi), ci, {}});
      }
    }
  }
  std::string error;
  for (std::uint32_t mi = 0; mi < rules.migrations.size(); ++mi) {
    const Migration& m = rules.migrations[mi];
    for (std::uint32_t ci = 0; ci < m.changes.size(); ++ci) {
      if (!add_column_change(out.tables_, m, mi, ci, error)) return error;
    }
  }
  return out;
}

std::vector<std::string> RewriteRules::table_names() const {
  std::vector<std::string> names;
  for (const CompiledTable& t : tables_) {
    names.push_back(t.old_name.name);
    if (t.new_name.name != t.old_name.name) names.push_back(t.new_name.name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace pgshim::rules
