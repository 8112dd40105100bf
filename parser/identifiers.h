// Identifiers in generated SQL. Names in the raw tree and in rule files are
// already folded (`Users` -> users, `"Users"` -> Users), so text the rewriter
// writes must quote a name exactly when PostgreSQL would not read it back as is.
#pragma once

#include <string>
#include <string_view>

namespace pgshim::parser {

// `name` as SQL: bare when it is lower case letters, digits, `_` and `$` (not
// leading with a digit or `$`) and not a keyword other than an unreserved one;
// double-quoted otherwise, with embedded quotes doubled (PostgreSQL's
// quote_identifier).
[[nodiscard]] std::string quote_identifier(std::string_view name);

// Appends quote_identifier(name) to `out`.
void append_identifier(std::string& out, std::string_view name);

// Whether `lower_word` is a PostgreSQL keyword that cannot be used bare as a
// column or table name (reserved, column-name or type/function-name keyword).
[[nodiscard]] bool is_non_unreserved_keyword(std::string_view lower_word);

}  // namespace pgshim::parser
