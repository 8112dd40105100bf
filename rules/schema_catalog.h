// Filling a StaticSchemaCache from PostgreSQL's catalog. rules/ does no I/O:
// the caller (the proxy on an authenticated server connection, `pgshim
// rewrite --schema-from`, tests) runs kSchemaCatalogQuery and hands the rows
// here, with the session's search_path (`SHOW search_path`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/schema_cache.h"

namespace pgshim::rules {

// One row per column of every ordinary, partitioned or foreign table and view
// outside the system schemas, in attnum order: schema, table, column, type,
// and whether an UPDATE may assign it ('t'/'f': not GENERATED ALWAYS).
inline constexpr std::string_view kSchemaCatalogQuery =
    "SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
    "a.attidentity <> 'a' AND a.attgenerated = '' "
    "FROM pg_catalog.pg_attribute a "
    "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
    "ORDER BY n.nspname, c.relname, a.attnum";

struct CatalogRow {
  std::string schema;
  std::string table;
  std::string column;
  std::string type;
  bool assignable = true;  // the query's fifth column is "t"
};

// The session's search_path and user, for schema_from_catalog.
inline constexpr std::string_view kSearchPathQuery =
    "SELECT pg_catalog.current_setting('search_path'), current_user";

// One row of kSchemaCatalogQuery from its text values; nullopt when it has fewer
// than four columns.
[[nodiscard]] std::optional<CatalogRow> catalog_row(std::vector<std::string>&& values);

// `search_path` as SHOW prints it (`"$user", public`); `user` replaces $user.
[[nodiscard]] StaticSchemaCache schema_from_catalog(const std::vector<CatalogRow>& rows,
                                                    std::string_view search_path, std::string_view user);

}  // namespace pgshim::rules
