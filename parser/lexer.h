// A small exact lexer for PostgreSQL SQL text, used only to find where tokens
// end: libpg_query's raw tree gives start offsets (`location`) but no ends, and
// pg_query_scan goes through protobuf and a memory context of its own, which is
// both slow and unsafe to call while a raw tree is being walked.
//
// It follows PostgreSQL's scan.l for everything that can change token
// boundaries: whitespace, `--` and nested `/* */` comments, unquoted and quoted
// identifiers (also U&"..."), string literals ('...', E'...', B'...', X'...',
// N'...', U&'...', $tag$...$tag$), parameters ($1), numbers, operators (with
// the rule that trims a trailing + or -) and single-character punctuation.
// It assumes standard_conforming_strings = on, PostgreSQL's default since 9.1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace pgshim::parser {

enum class TokenKind : std::uint8_t {
  kIdent,        // unquoted identifier or keyword
  kQuotedIdent,  // "..." or U&"..."
  kString,       // any string literal, dollar-quoted included
  kNumber,
  kParam,        // $1
  kOperator,     // + - * / < > = ~ ! @ # % ^ & | ` ? and their runs, `::` included
  kPunct,        // ( ) [ ] , ; . :
};

struct Token {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  TokenKind kind = TokenKind::kPunct;
};

// The tokens of one SQL text, in order. Offsets are bytes into that text; the
// text must outlive the list.
class TokenList {
 public:
  // Lexes `sql`; false when a literal, quoted identifier or comment is left
  // unterminated (the statement cannot parse either).
  [[nodiscard]] bool lex(std::string_view sql);

  [[nodiscard]] std::size_t size() const { return tokens_.size(); }
  [[nodiscard]] const Token& operator[](std::size_t i) const { return tokens_[i]; }
  [[nodiscard]] std::string_view sql() const { return sql_; }
  [[nodiscard]] std::string_view text(std::size_t i) const {
    return sql_.substr(tokens_[i].begin, tokens_[i].end - tokens_[i].begin);
  }

  // Index of the first token that begins at or after `offset` (size() if none).
  [[nodiscard]] std::size_t at_or_after(std::uint32_t offset) const;
  // Index of the token that begins exactly at `offset`, or size().
  [[nodiscard]] std::size_t at(std::uint32_t offset) const;

  [[nodiscard]] bool is_punct(std::size_t i, char c) const {
    return i < tokens_.size() && tokens_[i].kind == TokenKind::kPunct && sql_[tokens_[i].begin] == c;
  }
  [[nodiscard]] bool is_operator(std::size_t i, std::string_view op) const {
    return i < tokens_.size() && tokens_[i].kind == TokenKind::kOperator && text(i) == op;
  }
  // An unquoted identifier equal to `lower_keyword` ignoring ASCII case.
  [[nodiscard]] bool is_keyword(std::size_t i, std::string_view lower_keyword) const;

 private:
  std::string_view sql_;
  std::vector<Token> tokens_;
};

}  // namespace pgshim::parser
