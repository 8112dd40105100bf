// rules/-internal: plans the text edits that turn one analysed SQL string into
// what the client's version means in the current phases (DESIGN.md section 3).
//
// Reads: every reference to a rule table in a read position becomes an inline
// sub-select projecting the client's view of it, so PostgreSQL itself resolves
// `*`, aliases, joins, USING and NATURAL. Writes are rewritten explicitly: the
// target's name, its column lists and SET lists (only the columns the
// statement assigns), the column references that bind to the target (WHERE,
// SET values, ON CONFLICT, EXCLUDED, RETURNING) and RETURNING *.
//
// Edits are collected in two passes: first the ones that replace names and
// references, then the ones that copy or wrap values, which render the value
// text with the first pass's edits applied. A statement is rewritten whole or
// not at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parser/analysis.h"
#include "parser/text_edit.h"
#include "rules/client_view.h"
#include "rules/rewrite_result.h"
#include "rules/rewrite_rules.h"
#include "rules/schema_cache.h"

namespace pgshim::rules {

class Planner {
 public:
  Planner(const RewriteRules& rules, const ClientProfile& profile, const SchemaCache& schema,
          const parser::Analysis& analysis);

  [[nodiscard]] RewriteResult run();

 private:
  struct Binding {
    int relation = -1;
    bool excluded = false;
  };

  // planner.cc: views, errors, the overall order.
  void resolve_views();
  [[nodiscard]] const TableView* view_of(int relation) const;
  [[nodiscard]] bool is_target(const parser::RelationRef& ref) const;
  // Whose columns are rewritten one by one: write targets, and rule tables
  // read in a grouped query (see plan_read).
  [[nodiscard]] bool is_explicit(int relation) const;
  [[nodiscard]] bool is_direct_read(const parser::RelationRef& ref, const TableView& view) const;
  void find_system_columns();
  void check_unsupported();
  void fail(bool strict, const char* sqlstate, std::string message);
  void cannot(const TableView& view, std::string_view construct, std::string_view reason);
  [[nodiscard]] std::string text(parser::Span span) const;
  [[nodiscard]] std::string render(parser::Span span);

  // planner_reads.cc: relations, COPY, `*`.
  void plan_relation(int index);
  void plan_read(const parser::RelationRef& ref, const TableView& view);
  void plan_rename(const parser::RelationRef& ref, const TableView& view, bool alias);
  [[nodiscard]] std::string physical_text(const parser::RelationRef& ref, const TableView& view) const;
  [[nodiscard]] std::optional<std::string> subquery_text(const parser::RelationRef& ref, const TableView& view);
  void plan_copy(const parser::CopySite& copy, const TableView& view);
  void plan_star(const parser::ColumnRefSite& site);
  void plan_returning_star(const parser::ColumnRefSite& site, const parser::WriteSite& write);
  void plan_direct_star(const parser::ColumnRefSite& site, const parser::RelationRef& ref, const TableView& view);
  [[nodiscard]] std::optional<std::string> expansion(const TableView& view, std::string_view qualifier);

  // planner_columns.cc: column references that bind to a write target.
  void plan_column_refs();
  [[nodiscard]] std::optional<Binding> bind(const parser::ColumnRefSite& site);
  [[nodiscard]] std::optional<Binding> bind_qualified(const parser::ColumnRefSite& site) const;
  [[nodiscard]] bool plan_column_ref(const parser::ColumnRefSite& site, const Binding& binding);
  void plan_schema_prefix(const parser::ColumnRefSite& site);
  [[nodiscard]] bool table_has(const parser::RelationRef& ref, std::string_view column, bool& known) const;
  [[nodiscard]] std::string qualifier_of(const parser::ColumnRefSite& site, const Binding& binding) const;

  // planner_writes.cc: column lists, SET lists, ON CONFLICT targets.
  void plan_assignments(const parser::AssignmentList& list);
  struct InsertPlan {
    const parser::AssignmentList& list;
    const TableView& view;
    std::vector<std::string_view> names;  // the client's columns written, in list order
    std::vector<bool> dropped;
    std::string generated_list;  // the column list written for an INSERT without one
  };
  bool insert_names(const parser::AssignmentList& list, const TableView& view, std::vector<std::string_view>& names);
  void plan_insert(const parser::AssignmentList& list, const TableView& view);
  void plan_insert_column(InsertPlan& plan, std::size_t i);
  [[nodiscard]] std::optional<std::string> direct_value(const WriteTarget& target,
                                                        const parser::ValueSite& value) const;
  void plan_set(const parser::AssignmentList& list, const TableView& view);
  bool write_or_fail(const TableView& view, std::string_view column, ColumnWrite& out);
  void plan_value(const TableView& view, const WriteTarget& main, const parser::ValueSite& value,
                  const std::string& rendered);
  [[nodiscard]] std::string value_text(const WriteTarget& target, const parser::ValueSite& value,
                                       const std::string& rendered) const;
  void remove_elements(const std::vector<parser::Span>& elements, const std::vector<bool>& dropped);
  bool all_dropped_insert(const parser::AssignmentList& list, const TableView& view);
  void all_dropped_set(const parser::AssignmentList& list, const TableView& view);
  void plan_conflict(const parser::WriteSite& write);
  bool keep_dropped_params(const parser::AssignmentList& list, const TableView& view, std::string_view column,
                           const parser::ValueSite& value);
  void plan_kept_params();

  const RewriteRules& rules_;
  const ClientProfile& profile_;
  const SchemaCache& schema_;
  const parser::Analysis& analysis_;
  const parser::StatementModel& model_;

  std::vector<std::optional<TableView>> views_;  // per compiled table, when matched
  std::vector<int> relation_view_;               // per relation: index into views_, or -1
  std::vector<bool> system_scopes_;              // scopes that name a system column (empty: none)
  parser::EditSet edits_;
  // Column references replaced by a read of the target, for direct_value().
  struct ReplacedRef {
    parser::Span span;
    std::string qualifier;
    const ColumnRead* read;
  };
  std::vector<ReplacedRef> replaced_;
  // Per write: bind parameters of dropped values, kept typed in an unused CTE
  // so that the statement still has (and types) every parameter the client binds.
  std::vector<std::vector<std::string>> kept_params_;

  bool failed_ = false;        // a strict error: the statement is refused
  bool lenient_skip_ = false;  // a non-strict migration cannot be honoured: send as is
  std::string sqlstate_;
  std::string message_;
};

}  // namespace pgshim::rules
