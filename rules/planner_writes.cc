// Written columns: INSERT column lists and their values, SET lists, ON
// CONFLICT targets. Only the columns a statement assigns are written; a
// companion column (the other side of a rename or retype while both exist) is
// appended right after the column it mirrors, in the list and in every row.
#include <algorithm>
#include <optional>

#include "parser/identifiers.h"
#include "rules/planner.h"

namespace pgshim::rules {

using parser::AssignedColumn;
using parser::AssignmentList;
using parser::Span;
using parser::ValueSite;

void Planner::plan_assignments(const AssignmentList& list) {
  const TableView* view = view_of(list.relation);
  if (view == nullptr) return;
  if (list.kind == parser::AssignmentKind::kSet) return plan_set(list, *view);
  plan_insert(list, *view);
}

bool Planner::write_or_fail(const TableView& view, std::string_view column, ColumnWrite& out) {
  out = view.write(column);
  if (out.sqlstate == nullptr) return true;
  fail(true, out.sqlstate, out.message);  // what the client's schema would say: never skipped
  return false;
}

std::string Planner::value_text(const WriteTarget& target, const ValueSite& value,
                                const std::string& rendered) const {
  if (value.is_default) return "DEFAULT";
  if (auto direct = direct_value(target, value)) return *std::move(direct);
  std::string out;
  append_write_value(out, target, rendered);
  return out;
}

// A value that is a column read through a conversion from the very column it
// is written to (`SET price_cents = EXCLUDED.price_cents` while only price
// exists) is that column as it is: no round trip through up and down, which
// need not be exact inverses.
std::optional<std::string> Planner::direct_value(const WriteTarget& target, const ValueSite& value) const {
  if (target.tmpl == nullptr) return std::nullopt;
  for (const ReplacedRef& ref : replaced_) {
    if (ref.span.begin != value.expr.begin || ref.span.end != value.expr.end) continue;
    if (ref.read->kind != ReadKind::kTemplate || ref.read->column != target.column) return std::nullopt;
    std::string out = ref.qualifier;
    if (!out.empty()) out += '.';
    parser::append_identifier(out, target.column);
    return out;
  }
  return std::nullopt;
}

// The written column keeps its place; a conversion wraps its value in place.
void Planner::plan_value(const TableView& view, const WriteTarget& main, const ValueSite& value,
                         const std::string& rendered) {
  if (main.tmpl == nullptr || value.is_default) return;
  if (!value.known) return cannot(view, "assignment to " + std::string(main.column), "its value cannot be located");
  edits_.replace_absorbing(value.expr.begin, value.expr.end, value_text(main, value, rendered));
}

// Removes the dropped elements of a comma-separated list with their commas,
// one run of neighbours at a time so the removals never overlap.
void Planner::remove_elements(const std::vector<Span>& elements, const std::vector<bool>& dropped) {
  const std::size_t n = elements.size();
  for (std::size_t a = 0; a < n;) {
    if (!dropped[a]) {
      ++a;
      continue;
    }
    std::size_t b = a;
    while (b + 1 < n && dropped[b + 1]) ++b;
    if (a > 0) {
      edits_.replace_absorbing(elements[a - 1].end, elements[b].end, "");
    } else {
      edits_.replace_absorbing(elements[0].begin, elements[b + 1].begin, "");
    }
    a = b + 1;
  }
}

// The client's columns an INSERT writes, in list order: its column list, or
// without one the first columns of the client's view of the table.
bool Planner::insert_names(const AssignmentList& list, const TableView& view, std::vector<std::string_view>& names) {
  if (list.has_column_list) {
    for (const AssignedColumn& c : list.columns) names.push_back(c.column);
    return true;
  }
  if (!view.writes_differ() && !view.needs_projection()) return false;  // positions already match
  std::vector<ClientColumn> columns;
  if (!view.client_columns(columns)) {
    cannot(view, "INSERT without a column list", "cannot expand * without a schema (use --schema-from)");
    return false;
  }
  if (!list.values_known || list.rows.empty()) {
    cannot(view, "INSERT without a column list", "its values cannot be located");
    return false;
  }
  for (std::size_t i = 0; i < list.rows[0].size() && i < columns.size(); ++i) names.push_back(columns[i].name);
  return true;
}

void Planner::plan_insert(const AssignmentList& list, const TableView& view) {
  if (list.default_values) return;
  InsertPlan plan{list, view, {}, {}, {}};
  if (!insert_names(list, view, plan.names)) return;
  // PostgreSQL refuses such an INSERT only after parsing; the rewrite needs one value per column.
  if (list.values_known) {
    for (const auto& row : list.rows) {
      if (row.size() == plan.names.size()) continue;
      return cannot(view, "INSERT", row.size() < plan.names.size() ? "a row has fewer values than columns"
                                                                   : "a row has more values than columns");
    }
  }
  plan.dropped.assign(plan.names.size(), false);
  for (std::size_t i = 0; i < plan.names.size() && !failed_; ++i) plan_insert_column(plan, i);
  if (failed_) return;
  const auto& dropped = plan.dropped;
  const bool any_dropped = std::find(dropped.begin(), dropped.end(), true) != dropped.end();
  if (any_dropped && std::find(dropped.begin(), dropped.end(), false) == dropped.end()) {
    if (!all_dropped_insert(list, view)) return;
  } else if (any_dropped) {
    if (list.has_column_list) {
      std::vector<Span> items;
      for (const AssignedColumn& c : list.columns) items.push_back(c.item);
      remove_elements(items, dropped);
    }
    for (const auto& row : list.rows) {
      std::vector<Span> elements;
      for (const ValueSite& v : row) elements.push_back(v.element);
      remove_elements(elements, dropped);
    }
  }
  if (!list.has_column_list && !plan.generated_list.empty()) {
    // After INSERT's target, or (MERGE) right before its VALUES.
    const char next = list.column_list_at < analysis_.sql().size() ? analysis_.sql()[list.column_list_at] : ' ';
    const bool before_word = (next >= 'A' && next <= 'Z') || (next >= 'a' && next <= 'z');
    edits_.insert(list.column_list_at, before_word ? "(" + plan.generated_list + ") "
                                                   : " (" + plan.generated_list + ")");
  }
}

// One written column: renamed in the list, its values converted in place, a
// companion appended after it in the list and in every row, or dropped.
void Planner::plan_insert_column(InsertPlan& plan, std::size_t i) {
  const AssignmentList& list = plan.list;
  const TableView& view = plan.view;
  const std::string_view name = plan.names[i];
  const bool generated = !list.has_column_list;
  ColumnWrite w;
  if (!write_or_fail(view, name, w)) return;
  const auto add_generated = [&](std::string_view column) {
    if (!plan.generated_list.empty()) plan.generated_list += ", ";
    parser::append_identifier(plan.generated_list, column);
  };
  if (w.count == 1 && w.targets[0].tmpl == nullptr && w.targets[0].column == name) return add_generated(name);
  if (!generated && list.columns[i].has_indirection) {
    return cannot(view, "assignment to an element of " + std::string(name), "the column is converted in this phase");
  }
  if (!list.values_known && (w.count != 1 || w.targets[0].tmpl != nullptr)) {
    return cannot(view, "INSERT ... SELECT into " + std::string(name), "its values cannot be located");
  }
  if (w.count == 0) {
    plan.dropped[i] = true;
    for (const auto& row : list.rows) {
      if (i < row.size() && !keep_dropped_params(list, view, name, row[i])) return;
    }
    return;
  }
  std::vector<std::string> rendered;  // before any edit of this column wraps them
  if (list.values_known) {
    for (const auto& row : list.rows) {
      rendered.push_back(render(row[i].expr));
    }
  }
  for (int t = 0; t < w.count; ++t) {
    const WriteTarget& target = w.targets[static_cast<std::size_t>(t)];
    const std::string quoted = parser::quote_identifier(target.column);
    if (generated) {
      add_generated(target.column);
    } else if (t == 0 && target.column != name) {
      edits_.replace(list.columns[i].column_span.begin, list.columns[i].column_span.end, quoted);
    } else if (t > 0) {
      edits_.insert(list.columns[i].item.end, ", " + quoted);
    }
    for (std::size_t r = 0; r < rendered.size(); ++r) {
      const ValueSite& value = list.rows[r][i];
      if (t == 0) {
        plan_value(view, target, value, rendered[r]);
      } else {
        edits_.insert(value.element.end, ", " + value_text(target, value, rendered[r]));
      }
    }
  }
}

// Every written column is dropped: one row of VALUES becomes DEFAULT VALUES.
bool Planner::all_dropped_insert(const AssignmentList& list, const TableView& view) {
  const parser::TokenList& tokens = analysis_.tokens();
  if (!list.has_column_list || list.rows.size() != 1 || list.columns.empty()) {
    cannot(view, "INSERT of dropped columns only", "more than one row would be left without values");
    return false;
  }
  const std::size_t open = tokens.at(list.columns.front().item.begin) - 1;
  const std::size_t close = tokens.at_or_after(list.rows[0].back().element.end);
  if (!tokens.is_punct(open, '(') || !tokens.is_punct(close, ')')) {
    cannot(view, "INSERT of dropped columns only", "its VALUES cannot be located");
    return false;
  }
  edits_.replace_absorbing(tokens[open].begin, tokens[close].end, "DEFAULT VALUES");
  return true;
}

void Planner::plan_set(const AssignmentList& list, const TableView& view) {
  if (list.rows.empty()) return;
  const auto& values = list.rows[0];
  std::vector<Span> items;   // one per `col = v` or `(a, b) = ...` group
  std::vector<bool> dropped;
  int last_group = -1;
  for (std::size_t i = 0; i < list.columns.size() && !failed_; ++i) {
    const AssignedColumn& col = list.columns[i];
    if (col.group < 0 || col.group != last_group) {
      items.push_back(col.item);
      dropped.push_back(false);
    }
    last_group = col.group;
    ColumnWrite w;
    if (!write_or_fail(view, col.column, w)) return;
    if (w.count == 1 && w.targets[0].tmpl == nullptr && w.targets[0].column == col.column) continue;
    if (w.count == 0) {
      if (col.group >= 0) return cannot(view, "SET (...) with dropped column " + std::string(col.column), "drop it from the list");
      if (!keep_dropped_params(list, view, col.column, values[i])) return;
      dropped.back() = true;
      continue;
    }
    const bool converted = w.targets[0].tmpl != nullptr || w.count > 1;
    if (col.has_indirection && converted) return cannot(view, "assignment to an element of " + std::string(col.column), "the column is converted in this phase");
    if (converted && !values[i].known) return cannot(view, "SET (...) = (SELECT ...) of " + std::string(col.column), "the column is converted in this phase");
    const std::string rendered = values[i].known ? render(values[i].expr) : std::string();
    if (w.targets[0].column != col.column) {
      edits_.replace(col.column_span.begin, col.column_span.end, parser::quote_identifier(w.targets[0].column));
    }
    plan_value(view, w.targets[0], values[i], rendered);
    for (int t = 1; t < w.count; ++t) {
      const WriteTarget& target = w.targets[static_cast<std::size_t>(t)];
      edits_.insert(col.item.end, ", " + parser::quote_identifier(target.column) + " = " +
                                      value_text(target, values[i], rendered));
    }
  }
  if (failed_) return;
  if (std::find(dropped.begin(), dropped.end(), false) == dropped.end()) return all_dropped_set(list, view);
  remove_elements(items, dropped);
}

// Every assignment is dropped, but the statement must still hit its rows (for
// the row count and RETURNING): assign the first column to itself.
void Planner::all_dropped_set(const AssignmentList& list, const TableView& view) {
  const ColumnInfo* target = nullptr;
  if (view.schema != nullptr) {
    for (const ColumnInfo& c : view.schema->columns) {
      if (c.assignable) {
        target = &c;
        break;
      }
    }
  }
  if (target == nullptr) {
    return cannot(view, "UPDATE of dropped columns only", "no column to assign without a schema (use --schema-from)");
  }
  const std::string column = parser::quote_identifier(target->name);
  const parser::RelationRef& ref = model_.relations[static_cast<std::size_t>(list.relation)];
  const std::string self = column + " = " + parser::quote_identifier(ref.refname()) + "." + column;
  edits_.replace_absorbing(list.columns.front().item.begin, list.columns.back().item.end, self);
}

void Planner::plan_conflict(const parser::WriteSite& write) {
  const TableView* view = view_of(write.relation);
  if (view == nullptr) return;
  for (const parser::ConflictColumn& c : write.conflict_columns) {
    const ColumnRead* read = view->changed_read(c.column);
    if (read == nullptr) continue;
    if (read->kind != ReadKind::kColumn) {
      return cannot(*view, "ON CONFLICT (" + std::string(c.column) + ")", "the column is computed in this phase");
    }
    edits_.replace(c.span.begin, c.span.end, parser::quote_identifier(read->column));
  }
}

}  // namespace pgshim::rules

namespace pgshim::rules {

// A dropped value that is a bind parameter must not vanish from the text: the
// client binds it anyway, and PostgreSQL must still know its type. It is kept
// as `($n)::type` in a CTE nobody reads (PostgreSQL does not evaluate it).
bool Planner::keep_dropped_params(const AssignmentList& list, const TableView& view, std::string_view column,
                                  const ValueSite& value) {
  if (!value.has_param) return true;
  const parser::TokenList& tokens = analysis_.tokens();
  const std::size_t t = tokens.at(value.expr.begin);
  const bool bare = t < tokens.size() && tokens[t].kind == parser::TokenKind::kParam && tokens[t].end == value.expr.end;
  const ColumnSlot* slot = view.slot_for_client(column);
  const int write = model_.relations[static_cast<std::size_t>(list.relation)].write;
  if (!bare || slot == nullptr || write < 0) {
    cannot(view, "write to dropped column " + std::string(column), "its value holds a bind parameter inside an expression");
    return false;
  }
  kept_params_[static_cast<std::size_t>(write)].push_back("(" + text(value.expr) + ")::" + slot->change->old_type);
  return true;
}

void Planner::plan_kept_params() {
  for (std::size_t w = 0; w < kept_params_.size(); ++w) {
    if (kept_params_[w].empty()) continue;
    const parser::WriteSite& write = model_.writes[w];
    std::string cte = "pgshim_dropped AS (SELECT ";
    for (std::size_t i = 0; i < kept_params_[w].size(); ++i) cte += (i == 0 ? "" : ", ") + kept_params_[w][i];
    cte += ')';
    if (write.with_body_at != 0) {
      edits_.insert(write.with_body_at, " " + cte + ",");
    } else if (write.keyword_at != 0 || model_.statements[static_cast<std::size_t>(write.statement)].span.begin == 0) {
      edits_.insert(write.keyword_at, "WITH " + cte + " ");
    } else {
      fail(true, kFeatureNotSupported, "pgshim: cannot rewrite write to a dropped column: statement not located");
    }
  }
}

}  // namespace pgshim::rules
