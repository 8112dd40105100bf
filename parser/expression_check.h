// Checks that a piece of rule-file SQL (an `up`/`down` conversion, a column default,
// a column type) is what it claims to be, using PostgreSQL's own grammar
// (libpg_query). The rule loader calls this; it never sees a libpg_query type.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgshim::parser {

// What the parser says about one standalone SQL value expression.
struct ExpressionInfo {
  bool ok = false;
  std::string error;  // why it is not a single expression (empty when ok)
  int error_offset = -1;  // 0-based character offset in the expression, -1 if unknown
  // The last name of every column reference, folded as PostgreSQL folds it
  // (`Price` -> price, `"Price"` -> Price, `t.price` -> price), in text order.
  std::vector<std::string> column_refs;
  bool has_params = false;  // uses a bind parameter ($1)
};

// Parses `expr` as one SQL value expression: `SELECT (<expr>)` must be a single
// statement with a single target and nothing else, so text that closes the
// parenthesis and smuggles in a FROM, a UNION or a second statement is rejected.
[[nodiscard]] ExpressionInfo analyze_sql_expression(std::string_view expr);

// Same check; on failure `error` holds the parser's message.
[[nodiscard]] bool check_sql_expression(std::string_view expr, std::string& error);

// Checks that `type` is one SQL type name as in a cast (`bigint`, `numeric(12,2)`,
// `text[]`, `timestamp with time zone`). Whether the type exists is the server's
// business; this only rules out text that is not a type name at all.
[[nodiscard]] bool check_sql_type(std::string_view type, std::string& error);

}  // namespace pgshim::parser
