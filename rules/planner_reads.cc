// Relations in read positions, renamed tables, COPY, and `*`.
#include "parser/identifiers.h"
#include "rules/planner.h"

namespace pgshim::rules {

using parser::RelationRef;
using parser::RelationRole;
using parser::Span;

namespace {

constexpr std::string_view kNeedSchema = "cannot expand * without a schema (use --schema-from)";

}  // namespace

void Planner::plan_relation(int index) {
  const TableView* view = view_of(index);
  if (view == nullptr) return;
  const RelationRef& ref = model_.relations[static_cast<std::size_t>(index)];
  switch (ref.role) {
    case RelationRole::kRead:
      return plan_read(ref, *view);
    case RelationRole::kCopyFrom:
    case RelationRole::kCopyTo:
      if (ref.copy >= 0) plan_copy(model_.copies[static_cast<std::size_t>(ref.copy)], *view);
      return;
    case RelationRole::kUtility:
      if (view->renamed) plan_rename(ref, *view, false);
      return;
    default:  // write targets keep their place; their columns are rewritten explicitly
      if (view->renamed) plan_rename(ref, *view, true);
      return;
  }
}

void Planner::plan_read(const RelationRef& ref, const TableView& view) {
  // `TABLE t` takes neither an alias nor a sub-select: spell it out.
  if (!ref.table_span.empty() && (view.renamed || view.needs_projection())) {
    edits_.replace(ref.table_span.begin, ref.table_span.end, "SELECT * FROM");
  }
  if (!view.needs_projection() || is_direct_read(ref, view)) {
    if (view.renamed) plan_rename(ref, view, true);
    return;
  }
  auto sub = subquery_text(ref, view);
  if (!sub) return;
  if (!ref.tablesample_span.empty()) {
    // Sampling applies to the physical table, inside the sub-select.
    const parser::Span s = ref.tablesample_span;
    sub->insert(sub->size() - 1, " " + render(s));
    edits_.replace_absorbing(s.begin, s.end, "");
  }
  // The alias stays where it was written; an unaliased table gets its own
  // name as the sub-select's alias, so `users.col` keeps resolving.
  if (ref.alias.empty()) *sub += " " + text(ref.relname_span);
  const std::uint32_t begin = ref.only_span.empty() ? ref.name_span.begin : ref.only_span.begin;
  const std::uint32_t end = ref.star_span.empty() ? ref.name_span.end : ref.star_span.end;
  edits_.replace(begin, end, std::move(*sub));
}

// The table's name in the database, as text: the schema as written, the
// physical name if the table was renamed, the written name otherwise.
std::string Planner::physical_text(const RelationRef& ref, const TableView& view) const {
  std::string out = text(Span{ref.name_span.begin, ref.relname_span.begin});
  if (view.renamed) {
    parser::append_identifier(out, view.physical_name);
  } else {
    out += text(ref.relname_span);
  }
  return out;
}

std::optional<std::string> Planner::subquery_text(const RelationRef& ref, const TableView& view) {
  std::string error;
  auto columns = view.projection(error);
  if (!columns) {
    cannot(view, "reference to " + std::string(view.client_name), error + " (use --schema-from)");
    return std::nullopt;
  }
  std::string out = "(SELECT " + *columns + " FROM ";
  if (!ref.only_span.empty()) out += "ONLY ";
  out += physical_text(ref, view);
  out += ')';
  return out;
}

void Planner::plan_rename(const RelationRef& ref, const TableView& view, bool alias) {
  edits_.replace(ref.relname_span.begin, ref.relname_span.end, parser::quote_identifier(view.physical_name));
  if (alias && ref.alias.empty()) {
    const std::uint32_t at = ref.star_span.empty() ? ref.name_span.end : ref.star_span.end;
    edits_.insert(at, " AS " + text(ref.relname_span));
  }
}

void Planner::plan_copy(const parser::CopySite& copy, const TableView& view) {
  const RelationRef& ref = model_.relations[static_cast<std::size_t>(copy.relation)];
  if (!copy.is_from) {
    if (!view.needs_projection()) {
      if (view.renamed) plan_rename(ref, view, false);
      return;
    }
    auto sub = subquery_text(ref, view);
    if (!sub) return;
    std::string columns = "*";
    if (!copy.columns.empty()) {
      columns.clear();
      for (const parser::ConflictColumn& c : copy.columns) columns += (columns.empty() ? "" : ", ") + text(c.span);
    }
    edits_.replace(copy.target_span.begin, copy.target_span.end,
                   "(SELECT " + columns + " FROM " + *sub + " " + text(ref.relname_span) + ")");
    return;
  }
  if (view.renamed) plan_rename(ref, view, false);
  // COPY FROM streams values into columns as they are: only renames can be honoured.
  std::vector<std::string> names;
  if (copy.columns.empty()) {
    if (!view.writes_differ() && !view.needs_projection()) return;
    std::vector<ClientColumn> columns;
    if (!view.client_columns(columns)) return cannot(view, "COPY FROM without a column list", kNeedSchema);
    for (const ClientColumn& c : columns) names.emplace_back(c.name);
  } else {
    for (const parser::ConflictColumn& c : copy.columns) names.emplace_back(c.column);
  }
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    ColumnWrite w;
    if (!write_or_fail(view, names[i], w)) return;
    if (w.count != 1 || w.targets[0].tmpl != nullptr) {
      return cannot(view, "COPY FROM into column " + names[i], "its value must be computed in this phase");
    }
    const std::string physical = parser::quote_identifier(w.targets[0].column);
    if (!copy.columns.empty() && w.targets[0].column != names[i]) {
      edits_.replace(copy.columns[i].span.begin, copy.columns[i].span.end, physical);
    }
    list += (i == 0 ? "" : ", ") + physical;
  }
  if (copy.columns.empty()) edits_.insert(ref.name_span.end, " (" + list + ")");
}

// `*` outside RETURNING is expanded by PostgreSQL against the sub-select; it
// only fails when that sub-select could not list the client's columns.
void Planner::plan_star(const parser::ColumnRefSite& site) {
  if (site.scope < 0) return;
  for (const parser::ScopeItem& item : model_.scopes[static_cast<std::size_t>(site.scope)].items) {
    if (item.kind != parser::ScopeItemKind::kRelation) continue;
    if (site.nfields > 0 && item.refname != site.fields[site.nfields - 1]) continue;
    const TableView* view = view_of(item.relation);
    const RelationRef& ref = model_.relations[static_cast<std::size_t>(item.relation)];
    if (view != nullptr && is_direct_read(ref, *view)) return plan_direct_star(site, ref, *view);
    if (view == nullptr || view->schema != nullptr || is_target(ref)) continue;
    if (view->needs_projection()) return cannot(*view, "* on " + std::string(view->client_name), kNeedSchema);
  }
}

void Planner::plan_returning_star(const parser::ColumnRefSite& site, const parser::WriteSite& write) {
  const RelationRef& target = model_.relations[static_cast<std::size_t>(write.relation)];
  const TableView* view = view_of(write.relation);
  if (view == nullptr || !view->needs_projection()) return;
  if (site.nfields > 0 && site.fields[site.nfields - 1] != target.refname()) return;
  if (!site.bare_target) return cannot(*view, text(site.span) + " inside an expression", "list its columns");
  const std::string qualifier = parser::quote_identifier(target.refname());
  auto list = expansion(*view, qualifier);
  if (!list) return cannot(*view, "RETURNING *", kNeedSchema);
  if (site.nfields == 0 && write.has_from) {
    // Unqualified RETURNING * also returns the FROM/USING items' columns.
    if (!write.from_items_simple) return cannot(*view, "RETURNING *", "an unaliased join in FROM");
    for (const std::string_view name : write.from_refnames) *list += ", " + parser::quote_identifier(name) + ".*";
  }
  edits_.replace(site.span.begin, site.span.end, std::move(*list));
}

// `*` over a rule table read in place (a grouped query): its client columns.
void Planner::plan_direct_star(const parser::ColumnRefSite& site, const RelationRef& ref, const TableView& view) {
  if (site.nfields == 0 && model_.scopes[static_cast<std::size_t>(site.scope)].items.size() != 1) {
    return cannot(view, "* in a grouped query over " + std::string(view.client_name), "list its columns");
  }
  // Only a whole select-list item expands into columns; inside an expression
  // (`count(u.*)`, `u.* - 1`) it is one row value.
  if (!site.bare_target) return cannot(view, text(site.span) + " inside an expression", "list its columns");
  auto list = expansion(view, parser::quote_identifier(ref.refname()));
  if (!list) return cannot(view, "* on " + std::string(view.client_name), kNeedSchema);
  edits_.replace(site.span.begin, site.span.end, std::move(*list));
}

std::optional<std::string> Planner::expansion(const TableView& view, std::string_view qualifier) {
  std::vector<ClientColumn> columns;
  if (!view.client_columns(columns)) return std::nullopt;
  std::string out;
  for (const ClientColumn& c : columns) {
    if (!out.empty()) out += ", ";
    append_read(out, c.read, qualifier);
    out += " AS ";
    parser::append_identifier(out, c.name);
  }
  return out;
}

}  // namespace pgshim::rules
