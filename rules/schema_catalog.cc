#include "rules/schema_catalog.h"

namespace pgshim::rules {
namespace {

// Splits SHOW search_path output at commas outside double quotes and unquotes.
std::vector<std::string> split_search_path(std::string_view text, std::string_view user) {
  std::vector<std::string> out;
  std::string current;
  bool quoted = false;
  bool was_quoted = false;
  const auto flush = [&] {
    if (!current.empty() || was_quoted) out.push_back(current == "$user" && !was_quoted ? std::string(user) : current);
    current.clear();
    was_quoted = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
        current.push_back('"');
        ++i;
      } else {
        quoted = !quoted;
        was_quoted = true;
      }
    } else if (c == ',' && !quoted) {
      flush();
    } else if (c != ' ' || quoted) {
      current.push_back(c);
    }
  }
  flush();
  // `$user` as PostgreSQL spells it is quoted: "$user".
  for (std::string& s : out) {
    if (s == "$user") s = std::string(user);
  }
  return out;
}

}  // namespace

StaticSchemaCache schema_from_catalog(const std::vector<CatalogRow>& rows, std::string_view search_path,
                                      std::string_view user) {
  StaticSchemaCache cache;
  std::vector<ColumnInfo> columns;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    columns.push_back(ColumnInfo{rows[i].column, rows[i].type, rows[i].assignable});
    const bool last = i + 1 == rows.size() || rows[i + 1].schema != rows[i].schema || rows[i + 1].table != rows[i].table;
    if (last) cache.add_table(rows[i].schema, rows[i].table, std::move(columns)), columns.clear();
  }
  cache.set_search_path(split_search_path(search_path, user));
  return cache;
}

std::optional<CatalogRow> catalog_row(std::vector<std::string>&& values) {
  if (values.size() < 4) return std::nullopt;
  CatalogRow row;
  row.schema = std::move(values[0]);
  row.table = std::move(values[1]);
  row.column = std::move(values[2]);
  row.type = std::move(values[3]);
  if (values.size() >= 5) row.assignable = values[4] == "t";
  return row;
}

}  // namespace pgshim::rules
