// Written columns and the text spans of their values: SET lists, INSERT column
// lists, VALUES rows, the select lists of INSERT ... SELECT, ON CONFLICT targets.
#include <cstdint>
#include <string_view>
#include <vector>

#include "parser/tree_walker.h"

namespace pgshim::parser::detail {
namespace {

std::string_view str(const char* s) { return s != nullptr ? std::string_view(s) : std::string_view(); }

void collect_leaves(SelectStmt* stmt, std::vector<SelectStmt*>& leaves) {
  if (stmt->op == SETOP_NONE) {
    leaves.push_back(stmt);
    return;
  }
  collect_leaves(stmt->larg, leaves);
  collect_leaves(stmt->rarg, leaves);
}

bool is_star(Node* value) {
  if (!IsA(value, ColumnRef)) return false;
  return IsA(llast(castNode(ColumnRef, value)->fields), A_Star);
}

}  // namespace

int TreeWalker::new_assignments(AssignmentKind kind, int relation) {
  AssignmentList list;
  list.kind = kind;
  list.relation = relation;
  list.statement = statement_;
  if (kind == AssignmentKind::kSet) list.rows.emplace_back();
  model_.assignments.push_back(std::move(list));
  return static_cast<int>(model_.assignments.size()) - 1;
}

ValueSite TreeWalker::value_site(Node* value, std::uint32_t begin, std::uint32_t end) const {
  ValueSite site;
  site.expr = Span{begin, end};
  site.element = site.expr;
  site.is_default = IsA(value, SetToDefault);
  site.has_param = extent_of(value).has_param;
  return site;
}

void TreeWalker::set_list(List* targets, int list, int scope) {
  int group = -1;
  const int n = list_length(targets);
  for (int i = 0; i < n; ++i) {
    auto* target = castNode(ResTarget, list_nth(targets, i));
    if (IsA(target->val, MultiAssignRef)) {
      auto* multi = castNode(MultiAssignRef, target->val);
      if (multi->colno != 1 || i + multi->ncolumns > n) return unsupported("SET (...) =", target->location);
      multi_assign(targets, i, multi->ncolumns, list, group);
      expr(multi->source, scope);
      i += multi->ncolumns - 1;
    } else {
      set_item(target, list);
      expr(target->val, scope);
    }
  }
}

void TreeWalker::set_item(ResTarget* target, int list) {
  const std::size_t column = tokens_.at(static_cast<std::uint32_t>(target->location));
  const std::size_t eq = skip_indirection(tokens_, column + 1);
  if (column >= tokens_.size() || !tokens_.is_operator(eq, "=") || eq + 1 >= tokens_.size()) {
    return unsupported("SET item", target->location);
  }
  const Extent extent = extent_of(target->val);
  const std::uint32_t begin = tokens_[eq + 1].begin;
  const std::uint32_t end = expression_end(tokens_, eq + 1, extent.max, statement_end());
  AssignedColumn col;
  col.column = str(target->name);
  col.column_span = Span{tokens_[column].begin, tokens_[column].end};
  col.item = Span{tokens_[column].begin, end};
  col.has_indirection = target->indirection != NIL;
  AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
  a.columns.push_back(col);
  a.rows[0].push_back(value_site(target->val, begin, end));
}

void TreeWalker::multi_assign(List* targets, int first, int ncolumns, int list, int& group) {
  auto* head = castNode(ResTarget, list_nth(targets, first));
  const std::size_t column = tokens_.at(static_cast<std::uint32_t>(head->location));
  const auto names = column > 0 && column < tokens_.size() ? split_list(tokens_, column - 1) : std::nullopt;
  if (!names || names->elements.size() != static_cast<std::size_t>(ncolumns) ||
      !tokens_.is_operator(names->close + 1, "=")) {
    return unsupported("SET (...) =", head->location);
  }
  Node* source = castNode(MultiAssignRef, head->val)->source;
  const std::size_t value = names->close + 2;
  const std::uint32_t end = expression_end(tokens_, value, extent_of(source).max, statement_end());
  std::optional<ListSpans> row;
  if (IsA(source, RowExpr) && list_length(castNode(RowExpr, source)->args) == ncolumns) {
    std::size_t open = tokens_.at(static_cast<std::uint32_t>(castNode(RowExpr, source)->location));
    if (tokens_.is_keyword(open, "row")) ++open;
    row = split_list(tokens_, open);
    if (row && row->elements.size() != static_cast<std::size_t>(ncolumns)) row.reset();
  }
  ++group;
  AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
  for (int k = 0; k < ncolumns; ++k) {
    auto* target = castNode(ResTarget, list_nth(targets, first + k));
    const std::size_t t = tokens_.at(static_cast<std::uint32_t>(target->location));
    AssignedColumn col;
    col.column = str(target->name);
    col.column_span = t < tokens_.size() ? Span{tokens_[t].begin, tokens_[t].end} : Span{};
    col.item = Span{tokens_[column - 1].begin, end};
    col.has_indirection = target->indirection != NIL;
    col.group = group;
    a.columns.push_back(col);
    if (row) {
      Node* arg = static_cast<Node*>(list_nth(castNode(RowExpr, source)->args, k));
      const Span span = row->elements[static_cast<std::size_t>(k)];
      a.rows[0].push_back(value_site(arg, span.begin, span.end));
    } else {
      ValueSite unknown;
      unknown.known = false;
      a.rows[0].push_back(unknown);
    }
  }
}

void TreeWalker::insert_columns(List* cols, int list) {
  AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
  a.has_column_list = cols != NIL;
  a.column_list_at = model_.relations[static_cast<std::size_t>(a.relation)].after_alias;
  ListCell* cell;
  foreach (cell, cols) {
    auto* target = lfirst_node(ResTarget, cell);
    const std::size_t t = tokens_.at(static_cast<std::uint32_t>(target->location));
    if (t >= tokens_.size()) return unsupported("INSERT column", target->location);
    const std::size_t after = skip_indirection(tokens_, t + 1);
    AssignedColumn col;
    col.column = str(target->name);
    col.column_span = Span{tokens_[t].begin, tokens_[t].end};
    col.item = Span{tokens_[t].begin, tokens_[after - 1].end};
    col.has_indirection = target->indirection != NIL;
    a.columns.push_back(col);
  }
}

void TreeWalker::insert_source(Node* source, int list, int parent) {
  if (source == nullptr) {
    AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
    a.default_values = true;
    const std::size_t d = tokens_.at_or_after(a.column_list_at);
    if (tokens_.is_keyword(d, "default") && tokens_.is_keyword(d + 1, "values")) {
      a.default_values_span = Span{tokens_[d].begin, tokens_[d + 1].end};
    }
    return;
  }
  if (!IsA(source, SelectStmt)) return unsupported("INSERT source", -1);
  auto* select_stmt = castNode(SelectStmt, source);
  select(select_stmt, parent);  // its reads; values are located below
  std::vector<SelectStmt*> leaves;
  collect_leaves(select_stmt, leaves);
  for (SelectStmt* leaf : leaves) {
    if (leaf->valuesLists != NIL) {
      std::vector<List*> rows;
      ListCell* cell;
      foreach (cell, leaf->valuesLists) rows.push_back(static_cast<List*>(lfirst(cell)));
      values_rows(rows, list);
    } else {
      select_leaf_values(leaf, list);
    }
  }
}

void TreeWalker::values_rows(const std::vector<List*>& rows, int list) {
  AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
  if (rows.empty() || rows[0] == NIL) return;
  const Extent first = extent_of(static_cast<Node*>(linitial(rows[0])));
  std::size_t open = first.min == INT_MAX ? tokens_.size() : tokens_.at_or_after(static_cast<std::uint32_t>(first.min));
  while (open > 0 && open < tokens_.size() && tokens_.is_punct(open - 1, '(')) --open;
  if (open == 0 || open >= tokens_.size() || !tokens_.is_keyword(open - 1, "values")) {
    a.values_known = false;
    return unsupported("VALUES", first.min);
  }
  for (List* row : rows) {
    const auto spans = split_list(tokens_, open);
    if (!spans || spans->elements.size() != static_cast<std::size_t>(list_length(row))) {
      a.values_known = false;
      return unsupported("VALUES row", -1);
    }
    std::vector<ValueSite> values;
    for (std::size_t k = 0; k < spans->elements.size(); ++k) {
      const Span s = spans->elements[k];
      values.push_back(value_site(static_cast<Node*>(list_nth(row, static_cast<int>(k))), s.begin, s.end));
    }
    a.rows.push_back(std::move(values));
    open = spans->close + 2;  // past `)` and `,`
  }
}

void TreeWalker::select_leaf_values(SelectStmt* leaf, int list) {
  AssignmentList& a = model_.assignments[static_cast<std::size_t>(list)];
  std::vector<ValueSite> row;
  ListCell* cell;
  foreach (cell, leaf->targetList) {
    auto* target = lfirst_node(ResTarget, cell);
    const std::size_t first = tokens_.at(static_cast<std::uint32_t>(target->location));
    if (is_star(target->val) || first >= tokens_.size()) {
      a.values_known = false;
      return;
    }
    const std::uint32_t end = expression_end(tokens_, first, extent_of(target->val).max, statement_end());
    std::uint32_t element_end = end;
    std::uint32_t expr_end = end;
    if (target->name != nullptr) {
      const std::size_t last = tokens_.at_or_after(end) - 1;
      if (tokens_.is_keyword(last, "as") && last + 1 < tokens_.size()) {
        element_end = tokens_[last + 1].end;  // `AS from`: a reserved word as the alias
        expr_end = tokens_[last - 1].end;
      } else {
        expr_end = tokens_[last - 1].end;
        if (tokens_.is_keyword(last - 1, "as")) expr_end = tokens_[last - 2].end;
      }
    }
    ValueSite site = value_site(target->val, tokens_[first].begin, expr_end);
    site.element = Span{tokens_[first].begin, element_end};
    row.push_back(site);
  }
  a.rows.push_back(std::move(row));
}

void TreeWalker::conflict_target(InferClause* infer, int write, int scope) {
  if (infer == nullptr) return;
  if (infer->indexElems != NIL) {
    const auto list = split_list(tokens_, tokens_.at(static_cast<std::uint32_t>(infer->location)));
    if (!list || list->elements.size() != static_cast<std::size_t>(list_length(infer->indexElems))) {
      return unsupported("ON CONFLICT target", infer->location);
    }
    std::size_t k = 0;
    ListCell* cell;
    foreach (cell, infer->indexElems) {
      auto* elem = lfirst_node(IndexElem, cell);
      const Span element = list->elements[k++];
      if (elem->name != nullptr) {
        const std::size_t t = tokens_.at(element.begin);
        model_.writes[static_cast<std::size_t>(write)].conflict_columns.push_back(ConflictColumn{str(elem->name), Span{element.begin, tokens_[t].end}});
      } else {
        expr(elem->expr, scope);
      }
    }
  }
  expr(infer->whereClause, scope);
}

}  // namespace pgshim::parser::detail
