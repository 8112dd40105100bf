// The physical columns of the tables rules name, as the rewriter needs them to
// expand `*` and to build a client's view of a table (DESIGN.md section 3), and
// the search_path that resolves unqualified names.
//
// The interface is what the rewriter reads; StaticSchemaCache is an immutable
// snapshot that tests, the CLI (--schema-from) and the proxy's catalog reader
// fill. A snapshot is shared read-only between threads; a refresh builds a new
// one with a new generation instead of mutating the old one.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgshim::rules {

struct ColumnInfo {
  std::string name;  // folded, as in the catalog
  std::string type;  // format_type() text, e.g. "numeric(12,2)"
  bool assignable = true;  // false for GENERATED ALWAYS (identity or stored) columns
};

struct TableInfo {
  std::vector<ColumnInfo> columns;  // in attnum order, dropped columns left out

  [[nodiscard]] const ColumnInfo* find(std::string_view column) const;
};

class SchemaCache {
 public:
  virtual ~SchemaCache() = default;

  // The table's columns, or nullptr when the cache does not know the table.
  [[nodiscard]] virtual const TableInfo* find_table(std::string_view schema, std::string_view name) const = 0;
  // Schema names in search order, `$user` already resolved or left out.
  [[nodiscard]] virtual const std::vector<std::string>& search_path() const = 0;
  // Differs between any two snapshots with different contents, so that cached
  // rewrites made with one are never served for another.
  [[nodiscard]] virtual std::uint64_t generation() const = 0;

  // The schema an unqualified `name` resolves to: the first schema of the
  // search_path that has it, else the first schema of the search_path (a table
  // that does not exist yet, such as a rename's new name before `contracted`).
  [[nodiscard]] std::string_view resolve_schema(std::string_view schema, std::string_view name) const;
};

class StaticSchemaCache final : public SchemaCache {
 public:
  // An empty cache that knows no table, with search_path `public`.
  StaticSchemaCache();

  // Builder calls, before the snapshot is shared; each one changes generation().
  void add_table(std::string schema, std::string name, std::vector<ColumnInfo> columns);
  void set_search_path(std::vector<std::string> schemas);

  [[nodiscard]] const TableInfo* find_table(std::string_view schema, std::string_view name) const override;
  [[nodiscard]] const std::vector<std::string>& search_path() const override { return search_path_; }
  [[nodiscard]] std::uint64_t generation() const override { return generation_; }
  [[nodiscard]] bool empty() const { return tables_.empty(); }

 private:
  // Ordered by (schema, name); transparent so lookups need no string copies.
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      const int c = std::string_view(a.first).compare(std::string_view(b.first));
      return c != 0 ? c < 0 : std::string_view(a.second) < std::string_view(b.second);
    }
  };
  std::map<std::pair<std::string, std::string>, TableInfo, KeyLess> tables_;
  std::vector<std::string> search_path_;
  std::uint64_t generation_;
};

}  // namespace pgshim::rules
