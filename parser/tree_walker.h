// parser/-internal: walks PostgreSQL's raw parse tree into a StatementModel.
// It resolves what the grammar alone decides (which RangeVar is a CTE, which
// query level a column reference is in, which spans hold written values) and
// leaves every rule decision to rules/.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "parser/lexer.h"
#include "parser/statement_model.h"
#include "parser/token_spans.h"
#include "parser/node_walk.h"

namespace pgshim::parser::detail {

class TreeWalker {
 public:
  TreeWalker(const TokenList& tokens, StatementModel& model) : tokens_(tokens), model_(model) {}

  // Walks one RawStmt; `index` is its position among the statements.
  void statement(RawStmt* raw, int index);

 private:
  // Statements (walk_query.cc, walk_write.cc).
  void dispatch(Node* stmt, int parent);
  void select(SelectStmt* stmt, int parent);
  void select_leaf(SelectStmt* stmt, int parent);
  void insert(InsertStmt* stmt, int parent);
  void write_from_items(List* items, int write, int scope);
  void update(UpdateStmt* stmt, int parent);
  void remove(DeleteStmt* stmt, int parent);
  void merge(MergeStmt* stmt, int parent);
  void merge_clause(MergeWhenClause* clause, int write, int scope);
  void copy(CopyStmt* stmt);
  void utility_relations(List* relations);
  int new_write(WriteKind kind, int relation, int scope, WithClause* with);

  // FROM items and relations (walk_query.cc).
  void from_item(Node* item, int scope);
  int relation(RangeVar* var, RelationRole role, int scope);
  void relation_spans(RangeVar* var, RelationRef& ref);
  void tablesample_span(RelationRef& ref);
  [[nodiscard]] bool is_cte(const RangeVar* var) const;
  std::size_t push_with(WithClause* with, int parent);
  void pop_with(std::size_t mark) { ctes_.resize(mark); }

  // Expressions (walk_query.cc).
  void expr(Node* node, int scope);
  void column_ref(ColumnRef* ref, int scope);
  void target_list(List* targets, int scope, bool returning);
  static void expr_child(Node* child, void* self);

  // Written values (walk_values.cc).
  int new_assignments(AssignmentKind kind, int relation);
  void set_list(List* targets, int list, int scope);
  void set_item(ResTarget* target, int list);
  void multi_assign(List* targets, int first, int ncolumns, int list, int& group);
  void insert_columns(List* cols, int list);
  void insert_source(Node* select, int list, int parent);
  void values_rows(const std::vector<List*>& rows, int list);
  void select_leaf_values(SelectStmt* leaf, int list);
  void conflict_target(InferClause* infer, int write, int scope);
  ValueSite value_site(Node* value, std::uint32_t begin, std::uint32_t end) const;
  [[nodiscard]] std::uint32_t statement_end() const { return statement_span_.end; }

  int new_scope(int parent);
  void add_item(int scope, ScopeItemKind kind, int relation, std::string_view refname);
  void unsupported(std::string_view construct, int location);

  const TokenList& tokens_;
  StatementModel& model_;
  std::vector<std::string_view> ctes_;  // CTE names visible at this point of the walk
  Span statement_span_;
  int statement_ = 0;
  int depth_ = 0;
  bool in_returning_ = false;
};

// Makes walk depth bounded: construct at every recursive entry point.
class DepthGuard {
 public:
  explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
  ~DepthGuard() { --depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;
  [[nodiscard]] bool too_deep() const { return depth_ > kMaxDepth; }

 private:
  int& depth_;
};

}  // namespace pgshim::parser::detail
