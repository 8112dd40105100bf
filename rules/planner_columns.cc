// Column references that bind to a write target (UPDATE/DELETE/INSERT/MERGE
// targets are not replaced by sub-selects, so their columns are rewritten one
// by one), and `*`.
#include <algorithm>

#include "parser/identifiers.h"
#include "rules/planner.h"

namespace pgshim::rules {

using parser::ColumnRefSite;
using parser::ScopeItemKind;

void Planner::plan_column_refs() {
  // Only names a target reads differently need binding at all.
  std::vector<std::string_view> changed;
  for (std::size_t r = 0; r < model_.relations.size(); ++r) {
    const TableView* view = view_of(static_cast<int>(r));
    if (view == nullptr || !is_explicit(static_cast<int>(r))) continue;
    for (const ColumnSlot& s : view->slots) {
      if (!s.client_name.empty() && view->changed_read(s.client_name) != nullptr) changed.push_back(s.client_name);
    }
  }
  for (const ColumnRefSite& site : model_.columns) {
    if (failed_) return;
    if (site.star) {
      const auto write = std::find_if(model_.writes.begin(), model_.writes.end(),
                                      [&](const parser::WriteSite& w) { return w.scope == site.scope; });
      if (site.in_returning && write != model_.writes.end()) {
        plan_returning_star(site, *write);
      } else {
        plan_star(site);
        plan_schema_prefix(site);
      }
      continue;
    }
    bool replaced = false;
    if (site.nfields > 0 && std::find(changed.begin(), changed.end(), site.column()) != changed.end()) {
      if (const auto binding = bind(site)) replaced = plan_column_ref(site, *binding);
    }
    if (!replaced) plan_schema_prefix(site);
  }
}

// `public.users.id` names the table by schema; once `public.users` is a
// sub-select (or a renamed table) aliased `users`, only `users.id` resolves.
void Planner::plan_schema_prefix(const ColumnRefSite& site) {
  const int table_field = site.nfields - (site.star ? 1 : 2);
  if (table_field < 1 || site.nfields > (site.star ? 2 : 3)) return;
  const std::string_view table = site.fields[static_cast<std::size_t>(table_field)];
  const std::string_view schema = site.fields[static_cast<std::size_t>(table_field - 1)];
  for (int s = site.scope; s >= 0; s = model_.scopes[static_cast<std::size_t>(s)].parent) {
    for (const parser::ScopeItem& item : model_.scopes[static_cast<std::size_t>(s)].items) {
      if (item.kind != ScopeItemKind::kRelation || item.refname != table) continue;
      const parser::RelationRef& ref = model_.relations[static_cast<std::size_t>(item.relation)];
      const TableView* view = view_of(item.relation);
      if (!ref.alias.empty() || ref.schema != schema || view == nullptr) return;
      const bool replaced = ref.role == parser::RelationRole::kRead && view->needs_projection();
      if (!replaced && !view->renamed) return;
      const parser::TokenList& tokens = analysis_.tokens();
      const std::size_t first = tokens.at(site.span.begin);
      edits_.replace(site.span.begin, tokens[first + 2].begin, "");  // `schema.`
      return;
    }
  }
}

// Whether a relation without rules has `column`, from the schema cache.
bool Planner::table_has(const parser::RelationRef& ref, std::string_view column, bool& known) const {
  const TableInfo* info = schema_.find_table(schema_.resolve_schema(ref.schema, ref.name), ref.name);
  known = info != nullptr;
  return known && info->find(column) != nullptr;
}

std::optional<Planner::Binding> Planner::bind_qualified(const ColumnRefSite& site) const {
  const std::string_view qualifier = site.fields[site.nfields - 2];
  const std::string_view schema = site.nfields >= 3 ? site.fields[site.nfields - 3] : std::string_view();
  for (int s = site.scope; s >= 0; s = model_.scopes[static_cast<std::size_t>(s)].parent) {
    for (const parser::ScopeItem& item : model_.scopes[static_cast<std::size_t>(s)].items) {
      if (item.refname != qualifier) continue;
      if (item.kind == ScopeItemKind::kExcluded) {
        // The row proposed to the INSERT's target: a target without rules reads as it is.
        if (!is_explicit(item.relation)) return std::nullopt;
        return Binding{item.relation, true};
      }
      if (item.kind == ScopeItemKind::kOpaque) return std::nullopt;
      const parser::RelationRef& ref = model_.relations[static_cast<std::size_t>(item.relation)];
      if (!schema.empty() && (!ref.alias.empty() || schema_.resolve_schema(ref.schema, ref.name) != schema)) {
        continue;
      }
      if (is_explicit(item.relation)) return Binding{item.relation, false};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// PostgreSQL binds an unqualified name in the innermost query level that has
// it. A level whose tables' columns we cannot know (a table without rules, a
// sub-select) might have it; if the name would otherwise bind to a target that
// reads it differently, the reference is ambiguous to us and is refused in
// strict mode rather than guessed.
std::optional<Planner::Binding> Planner::bind(const ColumnRefSite& site) {
  if (site.nfields >= 2) return bind_qualified(site);
  const std::string_view column = site.column();
  bool uncertain = false;
  for (int s = site.scope; s >= 0; s = model_.scopes[static_cast<std::size_t>(s)].parent) {
    bool uncertain_here = false;
    for (const parser::ScopeItem& item : model_.scopes[static_cast<std::size_t>(s)].items) {
      if (item.kind == ScopeItemKind::kExcluded) continue;
      const TableView* view = item.kind == ScopeItemKind::kRelation ? view_of(item.relation) : nullptr;
      if (view == nullptr && item.kind == ScopeItemKind::kRelation) {
        bool known = false;
        if (table_has(model_.relations[static_cast<std::size_t>(item.relation)], column, known)) return std::nullopt;
        uncertain_here = uncertain_here || !known;
        continue;
      }
      if (view == nullptr) {
        uncertain_here = true;
        continue;
      }
      const std::optional<bool> has = view->client_has(column);
      if (!has) uncertain_here = true;
      if (!has.value_or(false)) continue;
      if (!is_explicit(item.relation)) return std::nullopt;
      if (uncertain) {
        cannot(*view, "column reference " + std::string(column),
               "it may belong to a table of a sub-query; qualify it with its table name");
        return std::nullopt;
      }
      return Binding{item.relation, false};
    }
    uncertain = uncertain || uncertain_here;
  }
  return std::nullopt;
}

std::string Planner::qualifier_of(const ColumnRefSite& site, const Binding& binding) const {
  if (site.nfields == 2) {
    // The qualifier as written, up to the dot before the column.
    const parser::TokenList& tokens = analysis_.tokens();
    const std::size_t column = tokens.at_or_after(site.span.end) - 1;
    return text(parser::Span{site.span.begin, tokens[column - 1].begin});
  }
  const parser::RelationRef& ref = model_.relations[static_cast<std::size_t>(binding.relation)];
  if (ref.role == parser::RelationRole::kCopyFrom) return {};  // COPY's WHERE takes bare names
  return parser::quote_identifier(ref.refname());
}

bool Planner::plan_column_ref(const ColumnRefSite& site, const Binding& binding) {
  const TableView* view = view_of(binding.relation);
  const ColumnRead* read = view->changed_read(site.column());
  if (read == nullptr) return false;
  std::string qualifier = qualifier_of(site, binding);
  std::string out;
  append_read(out, *read, qualifier);
  replaced_.push_back(ReplacedRef{site.span, std::move(qualifier), read});
  if (site.bare_target) {
    out += " AS ";  // a select list or RETURNING keeps the client's column name
    parser::append_identifier(out, site.column());
  }
  edits_.replace(site.span.begin, site.span.end, std::move(out));
  return true;
}

}  // namespace pgshim::rules
