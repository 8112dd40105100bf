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
  auto path = query(conn.get(), std::string(rules::kSearchPathQuery), error);
  if (!path) return std::nullopt;
  std::vector<rules::CatalogRow> catalog;
  for (int i = 0; i < PQntuples(rows.get()); ++i) {
    std::vector<std::string> values;
    for (int c = 0; c < PQnfields(rows.get()); ++c) values.emplace_back(PQgetvalue(rows.get(), i, c));
    if (auto row = rules::catalog_row(std::move(values))) catalog.push_back(std::move(*row));
  }
  return rules::schema_from_catalog(catalog, PQgetvalue(path.get(), 0, 0), PQgetvalue(path.get(), 0, 1));
}

}  // namespace pgshim::proxy
