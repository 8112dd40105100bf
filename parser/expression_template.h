// Rule expressions (up/down) with holes: `round(price::numeric * 100)` becomes
// the pieces around each reference to `price`, so the rewriter can substitute
// `(v)::text` for a written value or `u.price` for a read without re-parsing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgshim::parser {

class ExpressionTemplate {
 public:
  // Parses `expression` and cuts it at every column reference whose last name
  // part is `column` (already folded). False with `error` set when the
  // expression does not parse as one SQL expression.
  [[nodiscard]] bool compile(std::string_view expression, std::string_view column, std::string& error);

  // The expression with every hole filled by `value`.
  [[nodiscard]] std::string fill(std::string_view value) const;
  void fill_into(std::string& out, std::string_view value) const;

  [[nodiscard]] std::size_t holes() const { return pieces_.empty() ? 0 : pieces_.size() - 1; }
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::vector<std::string> pieces_;  // holes() + 1 pieces; a hole between each two
};

}  // namespace pgshim::parser
