// What the rewriter needs to know about a parsed SQL string, in parser/'s own
// types: the relations it names and in which role, the scopes that decide what
// a column reference binds to, the column references, and the written columns
// with the text spans of their values. The tree walker fills it from
// PostgreSQL's raw parse tree; rules/ plans edits over it without ever seeing a
// PostgreSQL type.
//
// Names are folded as PostgreSQL folds them (`Users` -> users, `"Users"` ->
// Users). string_views point into the Analysis that produced the model and are
// valid as long as it lives. Spans are byte offsets into the analysed text.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pgshim::parser {

struct Span {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  [[nodiscard]] bool empty() const { return begin == end; }
};

enum class RelationRole : std::uint8_t {
  kRead,          // FROM, JOIN, USING, MERGE source, sub-selects: anything only read
  kInsertTarget,
  kUpdateTarget,
  kDeleteTarget,
  kMergeTarget,
  kCopyFrom,      // COPY t FROM
  kCopyTo,        // COPY t TO
  kUtility,       // LOCK, TRUNCATE: only the name may change
};

struct RelationRef {
  RelationRole role = RelationRole::kRead;
  int scope = -1;              // where its columns are visible; -1 for kUtility
  std::string_view schema;     // "" when unqualified
  std::string_view name;
  Span name_span;              // the qualified name as written
  Span relname_span;           // its last part
  std::string_view alias;      // "" when none
  bool alias_has_columns = false;  // `AS u (a, b)`
  std::uint32_t after_alias = 0;   // just past the name and alias
  Span only_span;              // `ONLY`, when written
  Span star_span;              // a trailing inheritance `*`, when written
  Span table_span;             // `TABLE` of the `TABLE name` query form (no alias allowed)
  Span tablesample_span;       // `TABLESAMPLE m (args) [REPEATABLE (seed)]` after the alias
  int write = -1;              // index into StatementModel::writes for a target
  int copy = -1;               // index into StatementModel::copies for COPY
  int statement = 0;           // index into StatementModel::statements

  [[nodiscard]] std::string_view refname() const { return alias.empty() ? name : alias; }
};

// What a name in a scope denotes, for binding column references.
enum class ScopeItemKind : std::uint8_t {
  kRelation,  // a RelationRef (read or target)
  kExcluded,  // ON CONFLICT's EXCLUDED row of the insert target
  kOpaque,    // sub-select, function, CTE reference, join alias: columns unknown
};

struct ScopeItem {
  ScopeItemKind kind = ScopeItemKind::kOpaque;
  int relation = -1;
  std::string_view refname;  // "" for an unaliased sub-select or join
};

// One query level. A column reference binds in its own level first, then in
// the enclosing ones (parent), as in PostgreSQL.
struct Scope {
  int parent = -1;
  std::vector<ScopeItem> items;
  bool grouped = false;    // a SELECT with GROUP BY
  bool has_using = false;  // a JOIN ... USING or NATURAL JOIN among its items
};

struct ColumnRefSite {
  int scope = -1;
  std::uint8_t nfields = 0;
  bool star = false;                     // `*` or `t.*`; fields hold the qualifier only
  bool bare_target = false;              // the whole value of an unaliased select/RETURNING item
  bool in_returning = false;
  std::array<std::string_view, 4> fields{};
  Span span;
  int statement = 0;

  [[nodiscard]] std::string_view column() const { return fields[nfields - 1]; }
};

// One value written to a column: a VALUES element, a SET right-hand side, or a
// select-list item of INSERT ... SELECT.
struct ValueSite {
  Span expr;     // the expression
  Span element;  // the list element: the expression plus an alias, if any
  bool is_default = false;  // DEFAULT
  bool has_param = false;   // holds a $n
  bool known = true;        // false: not locatable (`SET (a, b) = (SELECT ...)`)
};

struct AssignedColumn {
  std::string_view column;
  Span column_span;     // the column name token
  Span item;            // SET: `col = value` or the whole `(a, b) = (...)`; INSERT: the list item
  bool has_indirection = false;  // col[1] or col.field
  int group = -1;       // SET (a, b) = ...: which group (items of one group share `item`)
};

enum class AssignmentKind : std::uint8_t { kSet, kInsert };

// One SET list (UPDATE, ON CONFLICT DO UPDATE, MERGE ... UPDATE) or one INSERT
// column list (INSERT, MERGE ... INSERT) with the values written to it.
struct AssignmentList {
  AssignmentKind kind = AssignmentKind::kSet;
  int relation = -1;                   // the target
  std::vector<AssignedColumn> columns;  // empty for INSERT without a column list
  // rows[r][i]: the value of columns[i] (or of the i-th table column without a
  // list) in VALUES row r or select leaf r; one row for SET.
  std::vector<std::vector<ValueSite>> rows;
  bool values_known = true;   // false: a value could not be located (SELECT *, sub-select source)
  bool has_column_list = false;
  bool default_values = false;          // INSERT ... DEFAULT VALUES
  std::uint32_t column_list_at = 0;     // INSERT without a list: where ` (cols)` would go
  Span default_values_span;             // `DEFAULT VALUES`
  int statement = 0;
};

enum class WriteKind : std::uint8_t { kInsert, kUpdate, kDelete, kMerge };

struct ConflictColumn {
  std::string_view column;
  Span span;
};

struct WriteSite {
  WriteKind kind = WriteKind::kInsert;
  int relation = -1;
  int scope = -1;
  std::vector<int> assignments;            // indices into StatementModel::assignments
  std::vector<ConflictColumn> conflict_columns;  // ON CONFLICT (col, ...)
  bool has_from = false;                   // UPDATE ... FROM / DELETE ... USING
  bool from_items_simple = true;           // every FROM/USING item has a refname
  std::vector<std::string_view> from_refnames;  // in order, for RETURNING *
  std::uint32_t keyword_at = 0;    // INSERT/UPDATE/DELETE/MERGE keyword: a WITH may go before it
  std::uint32_t with_body_at = 0;  // just past its own `WITH [RECURSIVE]`; 0 when it has none
  int statement = 0;
};

struct CopySite {
  int relation = -1;
  bool is_from = false;
  std::vector<ConflictColumn> columns;  // the column list, if any
  Span columns_span;                    // `(a, b)` including parentheses
  Span target_span;                     // name and column list: what COPY (query) TO replaces
  int statement = 0;
};

// A construct the walker could not model; the rewrite must not trust its
// model of the statement if that statement touches a rule.
struct Unsupported {
  std::string_view construct;
  Span span;
  int statement = 0;
};

struct StatementSpan {
  Span span;  // from RawStmt stmt_location / stmt_len
};

struct StatementModel {
  std::vector<StatementSpan> statements;
  std::vector<Scope> scopes;
  std::vector<RelationRef> relations;
  std::vector<ColumnRefSite> columns;
  std::vector<AssignmentList> assignments;
  std::vector<WriteSite> writes;
  std::vector<CopySite> copies;
  std::vector<Unsupported> unsupported;
};

}  // namespace pgshim::parser
