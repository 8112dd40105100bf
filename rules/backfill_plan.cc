#include "rules/backfill_plan.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "rules/identifier.h"

namespace pgshim::rules {

const std::string_view kKeyCatalogQuery =
    "SELECT ci.relname, i.indisprimary, k.ord, a.attname, "
    "pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull "
    "FROM pg_catalog.pg_index i "
    "JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
    "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "AND k.attnum > 0 "
    "WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL "
    "AND k.ord <= i.indnkeyatts "
    "ORDER BY i.indisprimary DESC, ci.relname, k.ord";

// Kept in the database rather than a state file: the progress row commits in the
// same transaction as its batch, so it can never be ahead of or behind the data,
// and any machine can resume a run.
const std::string_view kProgressTableDdl =
    "CREATE TABLE IF NOT EXISTS pgshim_backfill_progress ("
    "migration text NOT NULL, table_name text NOT NULL, key_columns text NOT NULL, "
    "last_key text[], rows_done bigint NOT NULL DEFAULT 0, rows_updated bigint NOT NULL DEFAULT 0, "
    "started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), "
    "finished_at timestamptz, PRIMARY KEY (migration, table_name))";

const std::string_view kProgressSelect =
    "SELECT key_columns, last_key, rows_done, rows_updated, finished_at::text "
    "FROM pgshim_backfill_progress WHERE migration = $1 AND table_name = $2";

const std::string_view kProgressDelete =
    "DELETE FROM pgshim_backfill_progress WHERE migration = $1 AND table_name = $2";

const std::string_view kProgressFinish =
    "UPDATE pgshim_backfill_progress SET finished_at = now(), updated_at = now() "
    "WHERE migration = $1 AND table_name = $2";

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

namespace {

const TableName& table_of(const RenameColumn& c) { return c.table; }
const TableName& table_of(const RetypeColumn& c) { return c.table; }

ColumnCopy copy_of(const RenameColumn& c) { return {c.from, c.to, quote_identifier(c.from)}; }
ColumnCopy copy_of(const RetypeColumn& c) { return {c.from.name, c.to.name, c.up}; }

// "k1, k2" with each column quoted, optionally prefixed.
std::string column_list(const TableKey& key, std::string_view prefix = "", std::string_view suffix = "") {
  std::string out;
  for (const auto& column : key.columns) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}{}{}", prefix, quote_identifier(column.name), suffix);
  }
  return out;
}

// pgshim_k1, pgshim_k2: the batch's own names for the key, so that a key column
// named like a column of `up` never makes the UPDATE's references ambiguous.
std::string batch_names(std::size_t n, std::string_view suffix = "") {
  std::string out;
  for (std::size_t i = 1; i <= n; ++i) out += fmt::format("{}pgshim_k{}{}", i > 1 ? ", " : "", i, suffix);
  return out;
}

// (k1, k2) > ($4::type1, $5::type2)
std::string after_key(const TableKey& key, int first_param) {
  std::string params;
  for (std::size_t i = 0; i < key.columns.size(); ++i) {
    params += fmt::format("{}${}::{}", i > 0 ? ", " : "", first_param + static_cast<int>(i), key.columns[i].type);
  }
  return fmt::format("({}) > ({})", column_list(key), params);
}

std::string out_of_sync(const std::vector<ColumnCopy>& copies) {
  std::string out;
  for (const auto& copy : copies) {
    if (!out.empty()) out += " OR ";
    out += fmt::format("{} IS DISTINCT FROM ({})", quote_identifier(copy.to), copy.up);
  }
  return out;
}

// Whether a row is out of sync must be tested after the join with the batch:
// as a plain condition on the table the planner may push it down to a scan of
// the whole table (or compute it before the sort and limit of the batch), and
// `up` would run on rows of other batches (slow, and an error there would fail
// this one). `pgshim_k1 IS NULL OR ...` (never true: keys are NOT NULL) names
// both relations, so it can only be a join filter.
// The last key is taken `AS pgshim_last`: left with its own name, the text
// cast's output column would shadow pgshim_kN in ORDER BY and sort as text
// ('999' after '1000').
std::string batch_sql(const BackfillPlan& p, bool first) {
  const std::size_t n = p.key.columns.size();
  std::string sets;
  for (const auto& copy : p.target.copies) {
    sets += fmt::format("{}{} = ({})", sets.empty() ? "" : ", ", quote_identifier(copy.to), copy.up);
  }
  std::string join;
  for (std::size_t i = 0; i < n; ++i) {
    join += fmt::format("{}pgshim_t.{} = pgshim_batch.pgshim_k{}", i > 0 ? " AND " : "",
                        quote_identifier(p.key.columns[i].name), i + 1);
  }
  std::string last_key;
  for (std::size_t i = 1; i <= n; ++i) {
    last_key += fmt::format(",\n       (SELECT pgshim_k{}::text AS pgshim_last FROM pgshim_batch ORDER BY {} LIMIT 1)",
                            i, batch_names(n, " DESC"));
  }
  std::string last_array;
  for (std::size_t i = 1; i <= n; ++i) {
    last_array += fmt::format("{}(SELECT pgshim_k{}::text AS pgshim_last FROM pgshim_batch ORDER BY {} LIMIT 1)",
                              i > 1 ? ", " : "", i, batch_names(n, " DESC"));
  }
  return fmt::format(
      "WITH pgshim_batch AS (\n"
      "  SELECT {keys_as} FROM {table}{where}\n"
      "  ORDER BY {keys} LIMIT {limit}\n"
      "  FOR NO KEY UPDATE\n"
      "), pgshim_done AS (\n"
      "  UPDATE {table} AS pgshim_t SET {sets}\n"
      "  FROM pgshim_batch\n"
      "  WHERE {join}\n"
      "    AND (pgshim_batch.pgshim_k1 IS NULL OR {out_of_sync})\n"
      "  RETURNING 1\n"
      "), pgshim_progress AS (\n"
      "  INSERT INTO pgshim_backfill_progress AS p (migration, table_name, key_columns, last_key, rows_done, rows_updated)\n"
      "  SELECT $1::text, $2::text, $3::text, ARRAY[{last_array}],\n"
      "         (SELECT count(*) FROM pgshim_batch), (SELECT count(*) FROM pgshim_done)\n"
      "  WHERE EXISTS (SELECT 1 FROM pgshim_batch)\n"
      "  ON CONFLICT (migration, table_name) DO UPDATE SET key_columns = EXCLUDED.key_columns,\n"
      "    last_key = EXCLUDED.last_key, rows_done = p.rows_done + EXCLUDED.rows_done,\n"
      "    rows_updated = p.rows_updated + EXCLUDED.rows_updated, updated_at = now()\n"
      ")\n"
      "SELECT (SELECT count(*) FROM pgshim_batch), (SELECT count(*) FROM pgshim_done){last_key}",
      fmt::arg("keys_as", [&] {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
          out += fmt::format("{}{} AS pgshim_k{}", i > 0 ? ", " : "", quote_identifier(p.key.columns[i].name), i + 1);
        }
        return out;
      }()),
      fmt::arg("table", p.qualified_table),
      fmt::arg("where", first ? std::string() : "\n  WHERE " + after_key(p.key, 4)),
      fmt::arg("keys", column_list(p.key)), fmt::arg("limit", p.batch_size), fmt::arg("sets", sets),
      fmt::arg("join", join), fmt::arg("out_of_sync", out_of_sync(p.target.copies)),
      fmt::arg("last_array", last_array), fmt::arg("last_key", last_key));
}

}  // namespace

std::vector<BackfillTarget> backfill_targets(const Migration& migration, const TableName* only_table) {
  std::vector<BackfillTarget> targets;
  for (const auto& change : migration.changes) {
    std::visit(
        [&](const auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, RenameColumn> || std::is_same_v<T, RetypeColumn>) {
            const TableName& table = table_of(c);
            if (only_table != nullptr && !may_be_same_table(table, *only_table)) return;
            auto it = std::find_if(targets.begin(), targets.end(),
                                   [&](const BackfillTarget& t) { return t.table == table; });
            if (it == targets.end()) {
              targets.push_back({migration.name, table, {}});
              it = targets.end() - 1;
            }
            it->copies.push_back(copy_of(c));
          }
        },
        change.kind);
  }
  return targets;
}

std::optional<TableKey> choose_key(const std::vector<KeyCandidateRow>& rows,
                                   const std::vector<std::string>& excluded) {
  // Rows come grouped by index; an index is usable when every column is a plain,
  // NOT NULL column that the backfill does not write.
  std::vector<std::string> order;
  std::map<std::string, TableKey> keys;
  std::map<std::string, bool> usable;
  for (const auto& row : rows) {
    if (!keys.contains(row.index_name)) {
      order.push_back(row.index_name);
      keys[row.index_name] = TableKey{row.index_name, row.primary, {}};
      usable[row.index_name] = true;
    }
    const bool written = std::find(excluded.begin(), excluded.end(), row.column) != excluded.end();
    if (row.column.empty() || !row.not_null || written) usable[row.index_name] = false;
    keys[row.index_name].columns.push_back({row.column, row.type});
  }
  const TableKey* best = nullptr;
  for (const auto& name : order) {
    if (!usable[name]) continue;
    const TableKey& key = keys[name];
    if (best == nullptr || (key.primary && !best->primary) ||
        (key.primary == best->primary && key.columns.size() < best->columns.size())) {
      best = &key;
    }
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

BackfillPlan plan_backfill(const BackfillTarget& target, std::string_view schema, const TableKey& key,
                           int batch_size) {
  BackfillPlan plan;
  plan.target = target;
  plan.qualified_table = quote_identifier(schema) + "." + quote_identifier(target.table.name);
  plan.progress_name = display_table_name(TableName{std::string(schema), target.table.name});
  plan.key = key;
  for (const auto& column : key.columns) {
    plan.key_list += (plan.key_list.empty() ? "" : ",") + column.name;
  }
  plan.batch_size = batch_size;
  plan.first_batch_sql = batch_sql(plan, true);
  plan.next_batch_sql = batch_sql(plan, false);
  std::string counts;
  for (const auto& copy : target.copies) {
    counts += fmt::format("{}count(*) FILTER (WHERE {} IS DISTINCT FROM ({}))", counts.empty() ? "" : ", ",
                          quote_identifier(copy.to), copy.up);
  }
  plan.verify_sql = fmt::format("SELECT {} FROM {}", counts, plan.qualified_table);
  return plan;
}

std::string batch_keys_sql(const BackfillPlan& plan, bool first) {
  return fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT {}", column_list(plan.key, "", "::text"),
                     plan.qualified_table, first ? std::string() : " WHERE " + after_key(plan.key, 1),
                     column_list(plan.key), plan.batch_size);
}

std::string row_check_sql(const BackfillPlan& plan) {
  std::string ups;
  for (const auto& copy : plan.target.copies) ups += fmt::format("{}({})", ups.empty() ? "" : ", ", copy.up);
  std::string where;
  for (std::size_t i = 0; i < plan.key.columns.size(); ++i) {
    where += fmt::format("{}{} = ${}::{}", i > 0 ? " AND " : "", quote_identifier(plan.key.columns[i].name), i + 1,
                         plan.key.columns[i].type);
  }
  return fmt::format("SELECT {} FROM {} WHERE {}", ups, plan.qualified_table, where);
}

}  // namespace pgshim::rules
