#include "rules/change_fields.h"

#include <algorithm>
#include <array>

#include "parser/expression_check.h"
#include "rules/identifier.h"

namespace pgshim::rules {
namespace {

constexpr std::array<std::string_view, 2> kRetypeSideKeys = {"column", "type"};
constexpr std::array<std::string_view, 2> kColumnSpecKeys = {"name", "type"};

std::optional<TableName> read_table(const MapView& body, std::string_view key,
                                    std::string_view hint, Diagnostics& diag) {
  const std::optional<Field> field = body.require(key, hint, diag);
  if (!field) return std::nullopt;
  const std::optional<std::string> text = read_scalar(*field, hint, diag);
  if (!text) return std::nullopt;
  TableName table;
  std::string error;
  if (!parse_table_name(*text, table, error)) {
    diag.report(field->value_mark(), "'" + field->name + "': " + error);
    return std::nullopt;
  }
  return table;
}

std::optional<std::string> read_column(const MapView& body, std::string_view key,
                                       std::string_view hint, Diagnostics& diag) {
  const std::optional<Field> field = body.require(key, hint, diag);
  if (!field) return std::nullopt;
  const std::optional<std::string> text = read_scalar(*field, hint, diag);
  if (!text) return std::nullopt;
  std::string name;
  std::string error;
  if (!parse_identifier(*text, name, error)) {
    diag.report(field->value_mark(), "'" + field->name + "': " + error);
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> read_type(const MapView& body, Diagnostics& diag) {
  const std::optional<Field> field = body.require("type", "<SQL type>", diag);
  if (!field) return std::nullopt;
  const std::optional<std::string> text = read_scalar(*field, "<SQL type>", diag);
  if (!text) return std::nullopt;
  std::string error;
  if (!parser::check_sql_type(*text, error)) {
    diag.report(field->value_mark(), "'type': '" + *text + "' is not an SQL type name (" +
                                         error +
                                         "); write a type as in a cast, e.g. bigint or "
                                         "numeric(12,2)");
    return std::nullopt;
  }
  return text;
}

// `from:`/`to:` of retype_column ({ column, type }) or `column:` of add/drop_column
// ({ name, type }).
std::optional<ColumnSpec> read_column_spec(const MapView& body, std::string_view key,
                                           std::string_view name_key, Diagnostics& diag) {
  const bool retype = name_key == "column";
  const std::string_view example =
      retype ? "{ column: price, type: bigint }" : "{ name: nickname, type: text }";
  const std::optional<Field> field = body.require(key, example, diag);
  if (!field) return std::nullopt;
  const std::optional<MapView> spec = read_map(*field, example, diag);
  if (!spec) return std::nullopt;
  if (retype) {
    spec->check_keys(kRetypeSideKeys, diag);
  } else {
    spec->check_keys(kColumnSpecKeys, diag);
  }
  std::optional<std::string> name = read_column(*spec, name_key, "<column name>", diag);
  std::optional<std::string> type = read_type(*spec, diag);
  if (!name || !type) return std::nullopt;
  return ColumnSpec{std::move(*name), std::move(*type)};
}

// The parser's message, with where in the expression it stumbled (unless at its
// end, which the message says already).
std::string describe_parse_error(const parser::ExpressionInfo& info, std::string_view text) {
  std::string out = info.error;
  if (info.error_offset >= 0 && static_cast<std::size_t>(info.error_offset) < text.size()) {
    out += " (at character " + std::to_string(info.error_offset + 1) + ")";
  }
  return out;
}

// `up` or `down`: one expression in terms of `source` and nothing else, since the
// proxy converts a value by substituting it for `source` (DESIGN.md section 2).
std::optional<std::string> read_conversion(const MapView& body, std::string_view key,
                                           const std::string& source, Diagnostics& diag) {
  const std::string side = key == "up" ? "from" : "to";
  const std::string hint = "<SQL expression in terms of " + display_identifier(source) + ">";
  const std::optional<Field> field = body.require(key, hint, diag);
  if (!field) return std::nullopt;
  std::optional<std::string> text = read_scalar(*field, hint, diag);
  if (!text) return std::nullopt;
  const parser::ExpressionInfo info = parser::analyze_sql_expression(*text);
  const std::string name = "'" + std::string(key) + "'";
  const std::string column = display_identifier(source);
  std::string error;
  if (!info.ok) {
    error = name + " does not parse as an SQL expression: " + describe_parse_error(info, *text) +
            "; write one SQL expression in terms of " + column;
  } else if (info.has_params) {
    error = name + " uses a bind parameter; write it in terms of the " + side + " column " +
            column + " only";
  } else if (std::find(info.column_refs.begin(), info.column_refs.end(), source) ==
             info.column_refs.end()) {
    error = name + " does not mention the " + side + " column " + column +
            "; write it in terms of " + column + ", which the proxy replaces by the value "
            "being converted";
  } else {
    for (const std::string& ref : info.column_refs) {
      if (ref == source) continue;
      error = name + " refers to column " + display_identifier(ref) + "; it may use only the " +
              side + " column " + column + ", which the proxy replaces by the value being "
              "converted";
      break;
    }
  }
  if (!error.empty()) {
    diag.report(field->value_mark(), std::move(error));
    return std::nullopt;
  }
  return text;
}

// `default:` of add/drop_column: an SQL expression, "NULL" when absent or empty
// (YAML reads an unquoted NULL as empty).
std::optional<std::string> read_default(const MapView& body, Diagnostics& diag) {
  const std::optional<Field> field = body.find("default");
  if (!field || field->value.IsNull()) return std::string("NULL");
  std::optional<std::string> text = read_scalar(*field, "<SQL expression>", diag);
  if (!text) return std::nullopt;
  const parser::ExpressionInfo info = parser::analyze_sql_expression(*text);
  if (!info.ok || info.has_params) {
    const std::string problem =
        info.ok ? "uses a bind parameter"
                : "does not parse as an SQL expression: " + describe_parse_error(info, *text);
    diag.report(field->value_mark(), "'default' " + problem +
                                         "; write one SQL expression such as NULL, false or "
                                         "'n/a' (quoted for YAML)");
    return std::nullopt;
  }
  return text;
}

template <typename ColumnChange>
std::optional<ChangeKind> read_column_change(const MapView& body, Diagnostics& diag) {
  std::optional<TableName> table = read_table(body, "table", "<table name>", diag);
  std::optional<ColumnSpec> column = read_column_spec(body, "column", "name", diag);
  std::optional<std::string> default_sql = read_default(body, diag);
  if (!table || !column || !default_sql) return std::nullopt;
  return ColumnChange{std::move(*table), std::move(*column), std::move(*default_sql)};
}

}  // namespace

std::optional<ChangeKind> read_rename_column(const MapView& body, Diagnostics& diag) {
  std::optional<TableName> table = read_table(body, "table", "<table name>", diag);
  std::optional<std::string> from = read_column(body, "from", "<old column name>", diag);
  std::optional<std::string> to = read_column(body, "to", "<new column name>", diag);
  if (!table || !from || !to) return std::nullopt;
  if (*from == *to) {
    diag.report(body.find("to")->value_mark(),
                "rename_column renames " + display_identifier(*from) +
                    " to itself; set 'to' to the new column name");
    return std::nullopt;
  }
  return RenameColumn{std::move(*table), std::move(*from), std::move(*to)};
}

std::optional<ChangeKind> read_retype_column(const MapView& body, Diagnostics& diag) {
  std::optional<TableName> table = read_table(body, "table", "<table name>", diag);
  std::optional<ColumnSpec> from = read_column_spec(body, "from", "column", diag);
  std::optional<ColumnSpec> to = read_column_spec(body, "to", "column", diag);
  std::optional<std::string> up;
  std::optional<std::string> down;
  if (from) up = read_conversion(body, "up", from->name, diag);
  if (to) down = read_conversion(body, "down", to->name, diag);
  if (!table || !from || !to || !up || !down) return std::nullopt;
  if (from->name == to->name) {
    diag.report(body.find("to")->value_mark(),
                "retype_column keeps the column name " + display_identifier(from->name) +
                    ", but the old and new columns exist side by side; give 'to' a new "
                    "column name, e.g. " + from->name + "_new");
    return std::nullopt;
  }
  return RetypeColumn{std::move(*table), std::move(*from), std::move(*to), std::move(*up),
                      std::move(*down)};
}

std::optional<ChangeKind> read_add_column(const MapView& body, Diagnostics& diag) {
  return read_column_change<AddColumn>(body, diag);
}

std::optional<ChangeKind> read_drop_column(const MapView& body, Diagnostics& diag) {
  return read_column_change<DropColumn>(body, diag);
}

std::optional<ChangeKind> read_rename_table(const MapView& body, Diagnostics& diag) {
  std::optional<TableName> from = read_table(body, "from", "<old table name>", diag);
  std::optional<TableName> to = read_table(body, "to", "<new table name>", diag);
  if (!from || !to) return std::nullopt;
  const YAML::Mark at = body.find("to")->value_mark();
  if (*from == *to) {
    diag.report(at, "rename_table renames " + display_table_name(*from) +
                        " to itself; set 'to' to the new table name");
    return std::nullopt;
  }
  if (!from->schema.empty() && !to->schema.empty() && from->schema != to->schema) {
    diag.report(at, "rename_table cannot move a table to another schema (" +
                        display_identifier(from->schema) + " to " +
                        display_identifier(to->schema) +
                        "); keep the schema of 'from' or leave it out of 'to'");
    return std::nullopt;
  }
  return RenameTable{std::move(*from), std::move(*to)};
}

}  // namespace pgshim::rules
