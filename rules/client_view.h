// A client's view of one rule table in the current phases: which name it uses
// for the table, which columns it sees and how each is read from the physical
// columns, and where a write of each of its columns goes. This is the phase
// matrix of DESIGN.md section 3 in code; everything else in the rewriter only
// places the resulting text.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rewrite_result.h"
#include "rules/rewrite_rules.h"
#include "rules/schema_cache.h"

namespace pgshim::rules {

enum class ReadKind : std::uint8_t {
  kColumn,    // the physical column `column`
  kTemplate,  // tmpl with its holes at the physical column `column`, cast to `type`
  kDefault,   // (default_sql)::type: the column does not exist (yet, or any more)
};

struct ColumnRead {
  ReadKind kind = ReadKind::kColumn;
  std::string_view column;
  const parser::ExpressionTemplate* tmpl = nullptr;
  std::string_view type;
  std::string_view default_sql;
};

// One physical column a client's write lands in.
struct WriteTarget {
  std::string_view column;
  const parser::ExpressionTemplate* tmpl = nullptr;  // nullptr: the value as is
  std::string_view source_type;  // the value is cast to it before tmpl (a parameter keeps its type)
  std::string_view result_type;  // tmpl's result is cast to it
};

// Where a write of one client column goes: its first target takes the place of
// the written column, the others are companions; no target drops the write.
struct ColumnWrite {
  std::array<WriteTarget, 2> targets{};
  int count = 0;
  const char* sqlstate = nullptr;  // set: the write is an error
  std::string message;
};

// What one column change means for this client in this phase.
struct ColumnSlot {
  const CompiledColumnChange* change = nullptr;
  Phase phase = Phase::kPlanned;
  ClientVersion version = ClientVersion::kOld;
  bool strict = true;
  std::string_view client_name;          // "" when the client's version lacks the column
  ColumnRead read;                       // how client_name is read
  std::array<std::string_view, 2> owned{};  // physical columns of the change that exist now
};

struct ClientColumn {
  std::string_view name;
  ColumnRead read;
};

class TableView {
 public:
  const CompiledTable* table = nullptr;
  std::string_view physical_name;  // the table's name in the database now
  std::string_view client_name;    // the name this client uses
  bool renamed = false;            // physical_name differs from client_name
  bool strict = true;              // a change of a strict migration is involved
  const TableInfo* schema = nullptr;  // physical columns, nullptr when unknown
  std::vector<ColumnSlot> slots;
  std::vector<AppliedChange> changes;  // the active changes behind this view

  // Whether reads of the table must go through a projection (a client column
  // is read differently, or a physical column is hidden from the client).
  [[nodiscard]] bool needs_projection() const;
  [[nodiscard]] const ColumnSlot* slot_for_client(std::string_view column) const;
  [[nodiscard]] const ColumnSlot* slot_owning(std::string_view physical) const;
  [[nodiscard]] const ColumnSlot* slot_of_change_column(std::string_view physical) const;  // by name, whatever the phase
  // The client column's read, when it is not the physical column of that name.
  [[nodiscard]] const ColumnRead* changed_read(std::string_view client_column) const;
  // Whether the client sees `column`; nullopt when that needs the unknown schema.
  [[nodiscard]] std::optional<bool> client_has(std::string_view column) const;
  [[nodiscard]] ColumnWrite write(std::string_view client_column) const;
  // Whether some client column is written elsewhere than to itself.
  [[nodiscard]] bool writes_differ() const;

  // The client's columns in the order of DESIGN.md section 3; false when the
  // schema is unknown.
  [[nodiscard]] bool client_columns(std::vector<ClientColumn>& out) const;
  // The projection's select list, e.g. `id, fullname AS display_name`; with an
  // unknown schema `*` plus the columns that are read differently. nullopt
  // (with `error`) when that cannot be done without the schema.
  [[nodiscard]] std::optional<std::string> projection(std::string& error) const;
};

// `qualifier.column`, or the expression the read stands for, as SQL text.
// `qualifier` is SQL text already (quoted as needed), may be empty.
void append_read(std::string& out, const ColumnRead& read, std::string_view qualifier);
// The text written to `target` for a value whose SQL text is `value`.
void append_write_value(std::string& out, const WriteTarget& target, std::string_view value);

// The view of `table` for `profile`; nullopt when no change of it is active.
[[nodiscard]] std::optional<TableView> build_view(const CompiledTable& table, const RewriteRules& rules,
                                                  const ClientProfile& profile, const TableInfo* schema);

}  // namespace pgshim::rules
