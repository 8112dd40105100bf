#include "proxy/catalog_reader.h"

#include <libpq-fe.h>

#include <memory>

#include "rules/schema_catalog.h"

namespace pgshim::proxy {
namespace {

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultClearer {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultClearer>;

ResultPtr query(PGconn* conn, const std::string& sql, std::string& error) {
  ResultPtr result(PQexec(conn, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    error = PQresultErrorMessage(result.get());
    return nullptr;
  }
  return result;
}

}  // namespace

std::optional<rules::StaticSchemaCache> read_schema(const std::string& dsn, std::string& error) {
  std::unique_ptr<PGconn, ConnCloser> conn(PQconnectdb(dsn.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    error = PQerrorMessage(conn.get());
    return std::nullopt;
  }
  auto rows = query(conn.get(), std::string(rules::kSchemaCatalogQuery), error);
  if (!rows) return std::nullopt;
  auto path = query(conn.get(), "SELECT current_setting('search_path'), current_user", error);
  if (!path) return std::nullopt;
  std::vector<rules::CatalogRow> catalog;
  for (int i = 0; i < PQntuples(rows.get()); ++i) {
    rules::CatalogRow row;
    row.schema = PQgetvalue(rows.get(), i, 0);
    row.table = PQgetvalue(rows.get(), i, 1);
    row.column = PQgetvalue(rows.get(), i, 2);
    row.type = PQgetvalue(rows.get(), i, 3);
    if (PQnfields(rows.get()) >= 5) row.assignable = std::string_view(PQgetvalue(rows.get(), i, 4)) == "t";
    catalog.push_back(std::move(row));
  }
  return rules::schema_from_catalog(catalog, PQgetvalue(path.get(), 0, 0), PQgetvalue(path.get(), 0, 1));
}

}  // namespace pgshim::proxy
