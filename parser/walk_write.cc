// INSERT, UPDATE, DELETE, MERGE, COPY and the utility statements that name
// relations.
#include <cstdint>
#include <string_view>
#include <vector>

#include "parser/tree_walker.h"

namespace pgshim::parser::detail {
namespace {

std::string_view str(const char* s) { return s != nullptr ? std::string_view(s) : std::string_view(); }

// The name a FROM/USING item is referred to by, "" when it has none of its own
// (an unaliased join), for expanding RETURNING *.
std::string_view from_refname(Node* item) {
  switch (nodeTag(item)) {
    case T_RangeVar: {
      auto* var = castNode(RangeVar, item);
      return var->alias != nullptr ? str(var->alias->aliasname) : str(var->relname);
    }
    case T_RangeSubselect: {
      auto* sub = castNode(RangeSubselect, item);
      return sub->alias != nullptr ? str(sub->alias->aliasname) : "";
    }
    case T_RangeFunction: {
      auto* fn = castNode(RangeFunction, item);
      return fn->alias != nullptr ? str(fn->alias->aliasname) : "";
    }
    case T_JoinExpr: {
      auto* join = castNode(JoinExpr, item);
      return join->alias != nullptr ? str(join->alias->aliasname) : "";
    }
    default:
      return "";
  }
}

}  // namespace

int TreeWalker::new_write(WriteKind kind, int relation, int scope, WithClause* with) {
  WriteSite site;
  site.kind = kind;
  site.relation = relation;
  site.scope = scope;
  site.statement = statement_;
  const RelationRef& ref = model_.relations[static_cast<std::size_t>(relation)];
  const std::uint32_t name = ref.only_span.empty() ? ref.name_span.begin : ref.only_span.begin;
  std::size_t k = tokens_.at_or_after(name);
  static constexpr std::string_view kKeywords[] = {"insert", "update", "delete", "merge"};
  const std::string_view keyword = kKeywords[static_cast<int>(kind)];
  for (int back = 0; back < 3 && k > 0 && !tokens_.is_keyword(k, keyword); ++back) --k;
  if (tokens_.is_keyword(k, keyword)) site.keyword_at = tokens_[k].begin;
  if (with != nullptr && with->location >= 0) {
    std::size_t w = tokens_.at(static_cast<std::uint32_t>(with->location));
    if (tokens_.is_keyword(w + 1, "recursive")) ++w;
    if (w < tokens_.size()) site.with_body_at = tokens_[w].end;
  }
  const int index = static_cast<int>(model_.writes.size());
  model_.writes.push_back(std::move(site));
  model_.relations[static_cast<std::size_t>(relation)].write = index;
  return index;
}

void TreeWalker::insert(InsertStmt* stmt, int parent) {
  const std::size_t mark = push_with(stmt->withClause, parent);
  const int scope = new_scope(parent);
  const int rel = relation(stmt->relation, RelationRole::kInsertTarget, scope);
  const int write = new_write(WriteKind::kInsert, rel, scope, stmt->withClause);
  if (stmt->onConflictClause != nullptr) add_item(scope, ScopeItemKind::kExcluded, rel, "excluded");

  const int list = new_assignments(AssignmentKind::kInsert, rel);
  model_.writes[static_cast<std::size_t>(write)].assignments.push_back(list);
  insert_columns(stmt->cols, list);
  insert_source(stmt->selectStmt, list, parent);

  if (OnConflictClause* conflict = stmt->onConflictClause; conflict != nullptr) {
    conflict_target(conflict->infer, write, scope);
    if (conflict->action == ONCONFLICT_UPDATE) {
      const int set = new_assignments(AssignmentKind::kSet, rel);
      model_.writes[static_cast<std::size_t>(write)].assignments.push_back(set);
      set_list(conflict->targetList, set, scope);
      expr(conflict->whereClause, scope);
    }
  }
  target_list(stmt->returningList, scope, true);
  pop_with(mark);
}

// UPDATE ... FROM and DELETE ... USING: the other tables of a write.
void TreeWalker::write_from_items(List* items, int write, int scope) {
  ListCell* cell;
  foreach (cell, items) {
    Node* item = static_cast<Node*>(lfirst(cell));
    from_item(item, scope);
    WriteSite& site = model_.writes[static_cast<std::size_t>(write)];
    site.has_from = true;
    site.from_refnames.push_back(from_refname(item));
    if (site.from_refnames.back().empty()) site.from_items_simple = false;
  }
}

void TreeWalker::update(UpdateStmt* stmt, int parent) {
  const std::size_t mark = push_with(stmt->withClause, parent);
  const int scope = new_scope(parent);
  const int rel = relation(stmt->relation, RelationRole::kUpdateTarget, scope);
  const int write = new_write(WriteKind::kUpdate, rel, scope, stmt->withClause);
  write_from_items(stmt->fromClause, write, scope);
  const int set = new_assignments(AssignmentKind::kSet, rel);
  model_.writes[static_cast<std::size_t>(write)].assignments.push_back(set);
  set_list(stmt->targetList, set, scope);
  expr(stmt->whereClause, scope);
  target_list(stmt->returningList, scope, true);
  pop_with(mark);
}

void TreeWalker::remove(DeleteStmt* stmt, int parent) {
  const std::size_t mark = push_with(stmt->withClause, parent);
  const int scope = new_scope(parent);
  const int rel = relation(stmt->relation, RelationRole::kDeleteTarget, scope);
  const int write = new_write(WriteKind::kDelete, rel, scope, stmt->withClause);
  write_from_items(stmt->usingClause, write, scope);
  expr(stmt->whereClause, scope);
  target_list(stmt->returningList, scope, true);
  pop_with(mark);
}

void TreeWalker::merge(MergeStmt* stmt, int parent) {
  const std::size_t mark = push_with(stmt->withClause, parent);
  const int scope = new_scope(parent);
  const int rel = relation(stmt->relation, RelationRole::kMergeTarget, scope);
  const int write = new_write(WriteKind::kMerge, rel, scope, stmt->withClause);
  from_item(stmt->sourceRelation, scope);
  expr(stmt->joinCondition, scope);
  ListCell* cell;
  foreach (cell, stmt->mergeWhenClauses) merge_clause(lfirst_node(MergeWhenClause, cell), write, scope);
  pop_with(mark);
}

void TreeWalker::merge_clause(MergeWhenClause* clause, int write, int scope) {
  expr(clause->condition, scope);
  const int rel = model_.writes[static_cast<std::size_t>(write)].relation;
  if (clause->commandType == CMD_UPDATE) {
    const int set = new_assignments(AssignmentKind::kSet, rel);
    model_.writes[static_cast<std::size_t>(write)].assignments.push_back(set);
    set_list(clause->targetList, set, scope);
  } else if (clause->commandType == CMD_INSERT) {
    const int list = new_assignments(AssignmentKind::kInsert, rel);
    model_.writes[static_cast<std::size_t>(write)].assignments.push_back(list);
    insert_columns(clause->targetList, list);
    if (clause->values == NIL) {
      model_.assignments[static_cast<std::size_t>(list)].default_values = true;
      return;
    }
    expr(reinterpret_cast<Node*>(clause->values), scope);
    values_rows(std::vector<List*>{clause->values}, list);
    // Without a column list, one goes right before VALUES.
    AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
    if (!a.has_column_list && !a.rows.empty() && !a.rows[0].empty()) {
      const std::size_t open = tokens_.at_or_after(a.rows[0][0].element.begin);
      std::size_t v = open;
      while (v > 0 && !tokens_.is_keyword(v, "values")) --v;
      a.column_list_at = tokens_[v].begin;
    }
  }
}

void TreeWalker::copy(CopyStmt* stmt) {
  if (stmt->query != nullptr) return dispatch(stmt->query, -1);
  if (stmt->relation == nullptr) return;
  const int scope = new_scope(-1);
  const RelationRole role = stmt->is_from ? RelationRole::kCopyFrom : RelationRole::kCopyTo;
  const int rel = relation(stmt->relation, role, scope);
  CopySite site;
  site.relation = rel;
  site.is_from = stmt->is_from;
  site.statement = statement_;
  const RelationRef& ref = model_.relations[static_cast<std::size_t>(rel)];
  site.target_span = ref.name_span;
  if (stmt->attlist != NIL) {
    const std::size_t open = tokens_.at_or_after(ref.name_span.end);
    const auto list = split_list(tokens_, open);
    if (!list || list->elements.size() != static_cast<std::size_t>(list_length(stmt->attlist))) {
      return unsupported("COPY column list", -1);
    }
    std::size_t k = 0;
    ListCell* cell;
    foreach (cell, stmt->attlist) {
      const Span element = list->elements[k++];
      const std::size_t t = tokens_.at(element.begin);
      site.columns.push_back(ConflictColumn{str(strVal(lfirst(cell))), Span{element.begin, tokens_[t].end}});
    }
    site.columns_span = Span{tokens_[open].begin, tokens_[list->close].end};
    site.target_span.end = site.columns_span.end;
  }
  expr(stmt->whereClause, scope);
  model_.relations[static_cast<std::size_t>(rel)].copy = static_cast<int>(model_.copies.size());
  model_.copies.push_back(std::move(site));
}

void TreeWalker::utility_relations(List* relations) {
  ListCell* cell;
  foreach (cell, relations) {
    if (IsA(lfirst(cell), RangeVar)) relation(lfirst_node(RangeVar, cell), RelationRole::kUtility, -1);
  }
}

}  // namespace pgshim::parser::detail
