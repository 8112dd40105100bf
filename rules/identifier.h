// PostgreSQL identifiers as written in rule files: unquoted names are folded to
// lower case (`Users` -> users), double-quoted ones keep their case and may hold
// any character (`"Users"` -> Users, `"a""b"` -> a"b). Note that YAML quotes are
// not SQL quotes: `table: "Users"` is the unquoted name Users, i.e. users; write
// `table: '"Users"'` to keep the case. (PostgreSQL's scan.l, "Identifiers".)
#pragma once

#include <string>
#include <string_view>

#include "rules/model.h"

namespace pgshim::rules {

// PostgreSQL truncates identifiers longer than NAMEDATALEN - 1 bytes.
inline constexpr std::size_t kMaxIdentifierBytes = 63;

// Parses one identifier (no dots outside quotes) into its folded form. On failure
// returns false and sets `error` to a sentence that ends with how to fix it.
[[nodiscard]] bool parse_identifier(std::string_view text, std::string& out, std::string& error);

// Parses `table` or `schema.table`.
[[nodiscard]] bool parse_table_name(std::string_view text, TableName& out, std::string& error);

// The identifier as SQL text: bare when PostgreSQL would read it back unchanged
// (lower case letters, digits, underscores), otherwise double-quoted. Keywords are
// not quoted, so this is for messages, not for generating SQL.
[[nodiscard]] std::string display_identifier(std::string_view name);

// `schema.name` or `name`, each part as display_identifier.
[[nodiscard]] std::string display_table_name(const TableName& table);

// Whether two rule table names may denote the same table: equal names, and equal
// schemas unless one of them is left to search_path.
[[nodiscard]] bool may_be_same_table(const TableName& a, const TableName& b);

}  // namespace pgshim::rules
