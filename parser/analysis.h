// Parsing SQL into parser/'s StatementModel: the public entry point of
// parser/. It lexes the text (for token ends), parses it with libpg_query's
// raw parser (about 1 µs for a primary-key SELECT, DESIGN.md "Parsing cost")
// and walks the tree.
//
// An Analysis owns the libpg_query memory context holding the tree, and the
// model's names point into it. libpg_query's state is thread-local, so an
// Analysis must be created, used and destroyed on one thread (several may be
// alive at once).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "parser/lexer.h"
#include "parser/statement_model.h"

namespace pgshim::parser {

namespace detail {
class RawTree;
}

class Analysis {
 public:
  explicit Analysis(std::string_view sql);
  ~Analysis();
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  // False when the text does not parse (the server will say why) or could not
  // be analysed; error() says which.
  [[nodiscard]] bool ok() const { return error_.empty(); }
  [[nodiscard]] std::string_view error() const { return error_; }

  [[nodiscard]] const StatementModel& model() const { return model_; }
  [[nodiscard]] const TokenList& tokens() const { return tokens_; }
  [[nodiscard]] std::string_view sql() const { return sql_; }

 private:
  std::string sql_;  // NUL-terminated copy for the C parser; tokens and spans index it
  TokenList tokens_;
  StatementModel model_;
  std::unique_ptr<detail::RawTree> tree_;
  std::string error_;
};

// Whether `sql` parses (one or more statements). For tests and checks.
[[nodiscard]] bool parses(std::string_view sql);

}  // namespace pgshim::parser
