// Queries, FROM items, CTEs and expressions.
#include <cstdint>
#include <string_view>
#include <vector>

#include "parser/tree_walker.h"

namespace pgshim::parser::detail {
namespace {

std::string_view str(const char* s) { return s != nullptr ? std::string_view(s) : std::string_view(); }

struct ExprContext {
  TreeWalker* walker;
  int scope;
};

}  // namespace

void TreeWalker::statement(RawStmt* raw, int index) {
  statement_ = index;
  const auto size = static_cast<std::uint32_t>(tokens_.sql().size());
  const std::uint32_t begin = raw->stmt_location < 0 ? 0 : static_cast<std::uint32_t>(raw->stmt_location);
  const std::uint32_t end = raw->stmt_len == 0 ? size : begin + static_cast<std::uint32_t>(raw->stmt_len);
  statement_span_ = Span{begin, end};
  model_.statements.push_back(StatementSpan{statement_span_});
  ctes_.clear();
  dispatch(raw->stmt, -1);
}

void TreeWalker::dispatch(Node* stmt, int parent) {
  if (stmt == nullptr) return;
  switch (nodeTag(stmt)) {
    case T_SelectStmt: return select(castNode(SelectStmt, stmt), parent);
    case T_InsertStmt: return insert(castNode(InsertStmt, stmt), parent);
    case T_UpdateStmt: return update(castNode(UpdateStmt, stmt), parent);
    case T_DeleteStmt: return remove(castNode(DeleteStmt, stmt), parent);
    case T_MergeStmt: return merge(castNode(MergeStmt, stmt), parent);
    case T_CopyStmt: return copy(castNode(CopyStmt, stmt));
    case T_ExplainStmt: return dispatch(castNode(ExplainStmt, stmt)->query, parent);
    case T_PrepareStmt: return dispatch(castNode(PrepareStmt, stmt)->query, parent);
    case T_DeclareCursorStmt: return dispatch(castNode(DeclareCursorStmt, stmt)->query, parent);
    case T_CreateTableAsStmt: {
      // CREATE TABLE AS reads like a SELECT; a materialized view's query is a
      // stored definition, which is not rewritten (DESIGN.md section 3).
      auto* ctas = castNode(CreateTableAsStmt, stmt);
      if (ctas->objtype == OBJECT_TABLE) dispatch(ctas->query, parent);
      return;
    }
    case T_LockStmt: return utility_relations(castNode(LockStmt, stmt)->relations);
    case T_TruncateStmt: return utility_relations(castNode(TruncateStmt, stmt)->relations);
    default:
      return;  // other utility statements name no rewritable relation
  }
}

void TreeWalker::select(SelectStmt* stmt, int parent) {
  DepthGuard guard(depth_);
  if (guard.too_deep()) return unsupported("deeply nested query", -1);
  const std::size_t mark = push_with(stmt->withClause, parent);
  if (stmt->op != SETOP_NONE) {
    select(stmt->larg, parent);
    select(stmt->rarg, parent);
    // ORDER BY and LIMIT of a set operation see only its output columns.
    const int scope = new_scope(parent);
    expr(reinterpret_cast<Node*>(stmt->sortClause), scope);
    expr(stmt->limitOffset, scope);
    expr(stmt->limitCount, scope);
  } else {
    select_leaf(stmt, parent);
  }
  pop_with(mark);
}

void TreeWalker::select_leaf(SelectStmt* stmt, int parent) {
  const int scope = new_scope(parent);
  model_.scopes[static_cast<std::size_t>(scope)].grouped = stmt->groupClause != NIL;
  ListCell* cell;
  foreach (cell, stmt->fromClause) from_item(static_cast<Node*>(lfirst(cell)), scope);
  expr(reinterpret_cast<Node*>(stmt->valuesLists), scope);
  target_list(stmt->targetList, scope, false);
  expr(reinterpret_cast<Node*>(stmt->distinctClause), scope);
  expr(stmt->whereClause, scope);
  expr(reinterpret_cast<Node*>(stmt->groupClause), scope);
  expr(stmt->havingClause, scope);
  expr(reinterpret_cast<Node*>(stmt->windowClause), scope);
  expr(reinterpret_cast<Node*>(stmt->sortClause), scope);
  expr(stmt->limitOffset, scope);
  expr(stmt->limitCount, scope);
  // lockingClause names FROM items by refname, intoClause a new table: neither
  // is a reference to an existing relation.
}

void TreeWalker::from_item(Node* item, int scope) {
  DepthGuard guard(depth_);
  if (guard.too_deep()) return unsupported("deeply nested FROM", -1);
  switch (nodeTag(item)) {
    case T_RangeVar: {
      auto* var = castNode(RangeVar, item);
      if (is_cte(var)) {
        add_item(scope, ScopeItemKind::kOpaque, -1,
                 var->alias != nullptr ? str(var->alias->aliasname) : str(var->relname));
      } else {
        relation(var, RelationRole::kRead, scope);
      }
      return;
    }
    case T_JoinExpr: {
      auto* join = castNode(JoinExpr, item);
      if (join->usingClause != NIL || join->isNatural) model_.scopes[static_cast<std::size_t>(scope)].has_using = true;
      from_item(join->larg, scope);
      from_item(join->rarg, scope);
      expr(join->quals, scope);
      if (join->alias != nullptr) add_item(scope, ScopeItemKind::kOpaque, -1, str(join->alias->aliasname));
      return;
    }
    case T_RangeSubselect: {
      auto* sub = castNode(RangeSubselect, item);
      if (IsA(sub->subquery, SelectStmt)) select(castNode(SelectStmt, sub->subquery), scope);
      add_item(scope, ScopeItemKind::kOpaque, -1, sub->alias != nullptr ? str(sub->alias->aliasname) : "");
      return;
    }
    case T_RangeFunction: {
      auto* fn = castNode(RangeFunction, item);
      ListCell* cell;
      foreach (cell, fn->functions) {
        // Each element is a two-item list: the call and its column definitions.
        expr(static_cast<Node*>(linitial(static_cast<List*>(lfirst(cell)))), scope);
      }
      add_item(scope, ScopeItemKind::kOpaque, -1, fn->alias != nullptr ? str(fn->alias->aliasname) : "");
      return;
    }
    case T_RangeTableSample: {
      auto* sample = castNode(RangeTableSample, item);
      const std::size_t before = model_.relations.size();
      from_item(sample->relation, scope);
      if (model_.relations.size() > before) tablesample_span(model_.relations.back());
      expr(reinterpret_cast<Node*>(sample->args), scope);
      expr(sample->repeatable, scope);
      return;
    }
    case T_RangeTableFunc: {
      auto* fn = castNode(RangeTableFunc, item);
      expr(fn->docexpr, scope);
      expr(fn->rowexpr, scope);
      add_item(scope, ScopeItemKind::kOpaque, -1, fn->alias != nullptr ? str(fn->alias->aliasname) : "");
      return;
    }
    default:
      return unsupported("FROM item", node_location(item));
  }
}

int TreeWalker::relation(RangeVar* var, RelationRole role, int scope) {
  RelationRef ref;
  ref.role = role;
  ref.scope = scope;
  ref.schema = str(var->schemaname);
  ref.name = str(var->relname);
  if (var->alias != nullptr) {
    ref.alias = str(var->alias->aliasname);
    ref.alias_has_columns = var->alias->colnames != NIL;
  }
  ref.statement = statement_;
  relation_spans(var, ref);
  const int index = static_cast<int>(model_.relations.size());
  model_.relations.push_back(ref);
  if (scope >= 0) add_item(scope, ScopeItemKind::kRelation, index, ref.refname());
  return index;
}

void TreeWalker::relation_spans(RangeVar* var, RelationRef& ref) {
  const int parts = 1 + (var->schemaname != nullptr ? 1 : 0) + (var->catalogname != nullptr ? 1 : 0);
  const auto name = var->location >= 0
                        ? dotted_name_at(tokens_, static_cast<std::uint32_t>(var->location), parts)
                        : std::nullopt;
  if (!name) return unsupported("relation name", var->location);
  ref.name_span = name->whole;
  ref.relname_span = Span{tokens_[name->last].begin, tokens_[name->last].end};
  const std::size_t first = tokens_.at(name->whole.begin);
  if (!var->inh && first > 0 && tokens_.is_keyword(first - 1, "only")) {
    ref.only_span = Span{tokens_[first - 1].begin, tokens_[first - 1].end};
  } else if (!var->inh) {
    unsupported("ONLY (table)", var->location);
  }
  const std::size_t before = ref.only_span.empty() ? first : first - 1;
  if (ref.role == RelationRole::kRead && before > 0 && tokens_.is_keyword(before - 1, "table")) {
    ref.table_span = Span{tokens_[before - 1].begin, tokens_[before - 1].end};
  }
  std::size_t i = name->last + 1;
  if (var->inh && tokens_.is_operator(i, "*")) {
    ref.star_span = Span{tokens_[i].begin, tokens_[i].end};
    ++i;
  }
  ref.after_alias = tokens_[i - 1].end;
  if (var->alias == nullptr) return;
  if (tokens_.is_keyword(i, "as")) ++i;
  if (i >= tokens_.size()) return unsupported("relation alias", var->location);
  ref.after_alias = tokens_[i].end;
  if (ref.alias_has_columns && tokens_.is_punct(i + 1, '(')) {
    const std::size_t close = matching_close(tokens_, i + 1);
    if (close < tokens_.size()) ref.after_alias = tokens_[close].end;
  }
}

// The clause follows the alias; a sub-select standing for the table takes it inside.
void TreeWalker::tablesample_span(RelationRef& ref) {
  const std::size_t k = tokens_.at_or_after(ref.after_alias);
  if (!tokens_.is_keyword(k, "tablesample")) return unsupported("TABLESAMPLE", -1);
  std::size_t open = k + 1;
  while (open < tokens_.size() && !tokens_.is_punct(open, '(')) ++open;
  std::size_t close = matching_close(tokens_, open);
  if (close < tokens_.size() && tokens_.is_keyword(close + 1, "repeatable")) close = matching_close(tokens_, close + 2);
  if (close >= tokens_.size()) return unsupported("TABLESAMPLE", -1);
  ref.tablesample_span = Span{tokens_[k].begin, tokens_[close].end};
}

bool TreeWalker::is_cte(const RangeVar* var) const {
  if (var->schemaname != nullptr || var->catalogname != nullptr) return false;
  const std::string_view name = str(var->relname);
  for (const std::string_view cte : ctes_) {
    if (cte == name) return true;
  }
  return false;
}

std::size_t TreeWalker::push_with(WithClause* with, int parent) {
  const std::size_t mark = ctes_.size();
  if (with == nullptr) return mark;
  ListCell* cell;
  if (with->recursive) {
    foreach (cell, with->ctes) ctes_.push_back(str(lfirst_node(CommonTableExpr, cell)->ctename));
  }
  foreach (cell, with->ctes) {
    auto* cte = lfirst_node(CommonTableExpr, cell);
    dispatch(cte->ctequery, parent);
    // A plain WITH makes each name visible only to the queries after it.
    if (!with->recursive) ctes_.push_back(str(cte->ctename));
  }
  return mark;
}

void TreeWalker::expr_child(Node* child, void* raw) {
  auto* context = static_cast<ExprContext*>(raw);
  context->walker->expr(child, context->scope);
}

void TreeWalker::expr(Node* node, int scope) {
  if (node == nullptr) return;
  DepthGuard guard(depth_);
  if (guard.too_deep()) return unsupported("deeply nested expression", node_location(node));
  switch (nodeTag(node)) {
    case T_ColumnRef:
      return column_ref(castNode(ColumnRef, node), scope);
    case T_SubLink: {
      auto* link = castNode(SubLink, node);
      expr(link->testexpr, scope);
      if (IsA(link->subselect, SelectStmt)) select(castNode(SelectStmt, link->subselect), scope);
      return;
    }
    default: {
      ExprContext context{this, scope};
      if (!for_each_child(node, expr_child, &context)) unsupported("expression", node_location(node));
      return;
    }
  }
}

void TreeWalker::column_ref(ColumnRef* ref, int scope) {
  ColumnRefSite site;
  site.scope = scope;
  site.in_returning = in_returning_;
  site.statement = statement_;
  const int n = list_length(ref->fields);
  if (n == 0 || n > 4) return unsupported("column reference", ref->location);
  ListCell* cell;
  foreach (cell, ref->fields) {
    Node* field = static_cast<Node*>(lfirst(cell));
    if (IsA(field, A_Star)) {
      site.star = true;
    } else if (IsA(field, String)) {
      site.fields[site.nfields++] = str(strVal(field));
    }
  }
  if (ref->location < 0 && site.star && site.nfields == 0) {
    // `TABLE t` has an implicit `*` with no text: nothing can be edited there.
    model_.columns.push_back(site);
    return;
  }
  const auto name = dotted_name_at(tokens_, static_cast<std::uint32_t>(ref->location), n);
  if (!name) return unsupported("column reference", ref->location);
  site.span = name->whole;
  model_.columns.push_back(site);
}

void TreeWalker::target_list(List* targets, int scope, bool returning) {
  const bool saved = in_returning_;
  in_returning_ = returning;
  ListCell* cell;
  foreach (cell, targets) {
    auto* target = lfirst_node(ResTarget, cell);
    const std::size_t before = model_.columns.size();
    expr(target->val, scope);
    const bool bare = target->name == nullptr && IsA(target->val, ColumnRef);
    if (bare && model_.columns.size() == before + 1) model_.columns.back().bare_target = true;
  }
  in_returning_ = saved;
}

int TreeWalker::new_scope(int parent) {
  model_.scopes.push_back(Scope{parent, {}});
  return static_cast<int>(model_.scopes.size()) - 1;
}

void TreeWalker::add_item(int scope, ScopeItemKind kind, int relation, std::string_view refname) {
  model_.scopes[static_cast<std::size_t>(scope)].items.push_back(ScopeItem{kind, relation, refname});
}

void TreeWalker::unsupported(std::string_view construct, int location) {
  const std::uint32_t at = location < 0 ? statement_span_.begin : static_cast<std::uint32_t>(location);
  model_.unsupported.push_back(Unsupported{construct, Span{at, at}, statement_});
}

}  // namespace pgshim::parser::detail
