// The SQL of `pgshim backfill` (DESIGN.md section 5, issue 5): which columns of
// which tables a migration copies (`new = up(old)`), which key walks each table,
// and the statements that do one batch, verify the result and keep the progress.
// Pure: the command line runs the statements; nothing here does I/O.
//
// One batch is one statement, so one short transaction in autocommit:
//   WITH pgshim_batch AS (SELECT key ... WHERE key > $last ORDER BY key LIMIT n
//                         FOR NO KEY UPDATE),
//        pgshim_done AS (UPDATE t SET new = (up) FROM pgshim_batch
//                        WHERE t.key = batch.key AND new IS DISTINCT FROM (up)),
//        pgshim_progress AS (INSERT INTO pgshim_backfill_progress ... ON CONFLICT ...)
//   SELECT rows in the batch, rows changed, the batch's last key
// The rows are locked before they are converted, and in READ COMMITTED the
// UPDATE re-reads a row a concurrent writer changed before the lock, so a write
// through the proxy is either before the batch (and `up` converts its value) or
// after it (and the proxy's dual write sets both columns): never lost, never
// overwritten with a stale value. The progress row commits with the batch, so a
// stopped run resumes exactly after the last batch that committed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/model.h"

namespace pgshim::rules {

// One column to fill: `to = (up)`, where `up` is written in terms of `from`.
struct ColumnCopy {
  std::string from;
  std::string to;
  std::string up;  // SQL expression; for a rename, the quoted `from` column
};

// Everything one migration copies in one table (several changes of the same
// table are done by the same batches).
struct BackfillTarget {
  std::string migration;
  TableName table;  // as the rule names it; schema "" = search_path
  std::vector<ColumnCopy> copies;
};

// The retype_column and rename_column changes of `migration`, grouped by table in
// rule order; with `only_table`, just the changes of tables that may be it.
[[nodiscard]] std::vector<BackfillTarget> backfill_targets(const Migration& migration,
                                                           const TableName* only_table = nullptr);

// One row of kKeyCatalogQuery: a column of a unique index of the table.
struct KeyCandidateRow {
  std::string index_name;
  bool primary = false;
  int ordinal = 0;        // 1-based position in the index
  std::string column;     // "" for an expression column
  std::string type;       // format_type() text
  bool not_null = false;
};

struct KeyColumn {
  std::string name;
  std::string type;
};

// The key that keyset pagination walks: unique, and no column may be NULL.
struct TableKey {
  std::string index_name;
  bool primary = false;
  std::vector<KeyColumn> columns;
};

// The unique, valid, non-partial indexes of table $1 (an oid), one row per key
// column: index name, primary, ordinal, column, type, NOT NULL ('t'/'f').
extern const std::string_view kKeyCatalogQuery;

// The primary key, else the unique index with the fewest columns, all NOT NULL
// and none an expression or one of `excluded` (the columns being filled);
// nullopt when the table has none.
[[nodiscard]] std::optional<TableKey> choose_key(const std::vector<KeyCandidateRow>& rows,
                                                 const std::vector<std::string>& excluded = {});

// The name of the progress table, created in the first schema of the search_path.
inline constexpr std::string_view kProgressTable = "pgshim_backfill_progress";
extern const std::string_view kProgressTableDdl;
// $1 migration, $2 table: key_columns, last_key (text[]), rows_done, rows_updated,
// finished_at (text, NULL while unfinished).
extern const std::string_view kProgressSelect;
// $1 migration, $2 table.
extern const std::string_view kProgressDelete;
extern const std::string_view kProgressFinish;

// The statements for one table. Parameters of the batch statements: $1 migration,
// $2 table (as `progress_name`), $3 key columns (as `key_list`), then in
// next_batch_sql the last key done, one text value per key column. Their result:
// one row of rows in the batch, rows changed, then the batch's last key (text,
// one column per key column; NULL when the batch was empty).
struct BackfillPlan {
  BackfillTarget target;
  std::string qualified_table;  // quoted, schema-qualified
  std::string progress_name;    // schema.table as stored in the progress table
  TableKey key;
  std::string key_list;         // the key columns, comma-separated, as stored
  int batch_size = 0;
  std::string first_batch_sql;
  std::string next_batch_sql;
  std::string verify_sql;  // one count per copy, of rows where to IS DISTINCT FROM (up)
};

// `schema` is the schema the table resolved to; batch_size > 0.
[[nodiscard]] BackfillPlan plan_backfill(const BackfillTarget& target, std::string_view schema,
                                         const TableKey& key, int batch_size);

// The up expression of `target`'s copy `i` run on the row of the given key, to
// find the row that makes a batch fail: $1.. the key values as text.
[[nodiscard]] std::string row_check_sql(const BackfillPlan& plan);
// The keys of the batch after $1.. (or from the start when `first`), without locking.
[[nodiscard]] std::string batch_keys_sql(const BackfillPlan& plan, bool first);

// An identifier always double-quoted (so keywords and any case are safe).
[[nodiscard]] std::string quote_identifier(std::string_view name);

}  // namespace pgshim::rules
