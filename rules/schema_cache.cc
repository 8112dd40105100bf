#include "rules/schema_cache.h"

#include <atomic>

namespace pgshim::rules {
namespace {

// Process-wide, so two snapshots built independently never share a generation.
std::uint64_t next_generation() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

const ColumnInfo* TableInfo::find(std::string_view column) const {
  for (const ColumnInfo& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

std::string_view SchemaCache::resolve_schema(std::string_view schema, std::string_view name) const {
  if (!schema.empty()) return schema;
  const std::vector<std::string>& path = search_path();
  for (const std::string& s : path) {
    if (find_table(s, name) != nullptr) return s;
  }
  return path.empty() ? std::string_view("public") : std::string_view(path.front());
}

StaticSchemaCache::StaticSchemaCache() : search_path_{"public"}, generation_(next_generation()) {}

void StaticSchemaCache::add_table(std::string schema, std::string name, std::vector<ColumnInfo> columns) {
  tables_[{std::move(schema), std::move(name)}] = TableInfo{std::move(columns)};
  generation_ = next_generation();
}

void StaticSchemaCache::set_search_path(std::vector<std::string> schemas) {
  search_path_ = std::move(schemas);
  generation_ = next_generation();
}

const TableInfo* StaticSchemaCache::find_table(std::string_view schema, std::string_view name) const {
  const auto it = tables_.find(std::pair<std::string_view, std::string_view>(schema, name));
  return it == tables_.end() ? nullptr : &it->second;
}

}  // namespace pgshim::rules
