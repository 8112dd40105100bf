#include "parser/lexer.h"

#include <algorithm>

namespace pgshim::parser {
namespace {

bool is_ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool is_ident_char(unsigned char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
// PostgreSQL 15's scanner: `space [ \t\n\r\f]` (no \v) and `newline [\n\r]`.
bool is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
bool is_newline(unsigned char c) { return c == '\n' || c == '\r'; }
bool is_op_char(unsigned char c) {
  switch (c) {
    case '+': case '-': case '*': case '/': case '<': case '>': case '=': case '~':
    case '!': case '@': case '#': case '%': case '^': case '&': case '|': case '`': case '?':
      return true;
    default:
      return false;
  }
}

// Scans one text with a cursor; each function returns false on an unterminated
// construct. `p` is always the offset of the next unread byte.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool skip_space_and_comments() {
    for (;;) {
      while (p_ < s_.size() && is_space(s_[p_])) ++p_;
      if (starts("--")) {
        while (p_ < s_.size() && !is_newline(s_[p_])) ++p_;
      } else if (starts("/*")) {
        if (!block_comment()) return false;
      } else {
        return true;
      }
    }
  }

  bool next(Token& t) {
    t.begin = static_cast<std::uint32_t>(p_);
    const unsigned char c = s_[p_];
    bool ok = true;
    if (c == '\'') {
      t.kind = TokenKind::kString, ok = quoted('\'', false);
    } else if (c == '"') {
      t.kind = TokenKind::kQuotedIdent, ok = quoted('"', false);
    } else if (prefixed_literal(t, ok)) {
    } else if (is_ident_start(c)) {
      t.kind = TokenKind::kIdent;
      while (p_ < s_.size() && is_ident_char(s_[p_])) ++p_;
    } else if (c == '$') {
      ok = dollar(t);
    } else if (is_digit(c) || (c == '.' && p_ + 1 < s_.size() && is_digit(s_[p_ + 1]))) {
      t.kind = TokenKind::kNumber, number();
    } else if (c == ':' && starts("::")) {
      t.kind = TokenKind::kOperator, p_ += 2;
    } else if (is_op_char(c)) {
      t.kind = TokenKind::kOperator, op();
    } else {
      t.kind = TokenKind::kPunct, ++p_;  // ( ) [ ] , ; . : and anything unknown
    }
    t.end = static_cast<std::uint32_t>(p_);
    return ok;
  }

  [[nodiscard]] bool done() const { return p_ >= s_.size(); }

 private:
  bool starts(std::string_view what) const { return s_.substr(p_, what.size()) == what; }

  bool block_comment() {
    int depth = 0;
    while (p_ < s_.size()) {
      if (starts("/*")) {
        ++depth, p_ += 2;
      } else if (starts("*/")) {
        p_ += 2;
        if (--depth == 0) return true;
      } else {
        ++p_;
      }
    }
    return false;
  }

  // '...' or "..." with doubled quotes; with backslash escapes for E'...'.
  bool quoted(char q, bool backslashes) {
    ++p_;
    while (p_ < s_.size()) {
      const char c = s_[p_];
      if (backslashes && c == '\\') {
        p_ += 2;
      } else if (c == q) {
        if (p_ + 1 < s_.size() && s_[p_ + 1] == q) {
          p_ += 2;
        } else {
          ++p_;
          return true;
        }
      } else {
        ++p_;
      }
    }
    return false;
  }

  // E'..', B'..', X'..', N'..', U&'..', U&"..": a letter glued to the quote.
  bool prefixed_literal(Token& t, bool& ok) {
    const char c = static_cast<char>(s_[p_] | 0x20);
    if (p_ + 1 < s_.size() && s_[p_ + 1] == '\'' && (c == 'e' || c == 'b' || c == 'x' || c == 'n')) {
      ++p_;
      t.kind = TokenKind::kString;
      ok = quoted('\'', c == 'e');
      return true;
    }
    if (c == 'u' && p_ + 2 < s_.size() && s_[p_ + 1] == '&' && (s_[p_ + 2] == '\'' || s_[p_ + 2] == '"')) {
      p_ += 2;
      t.kind = s_[p_] == '"' ? TokenKind::kQuotedIdent : TokenKind::kString;
      ok = quoted(s_[p_], false);
      return true;
    }
    return false;
  }

  // $1 is a parameter; $tag$ or $$ opens a dollar-quoted string.
  bool dollar(Token& t) {
    if (p_ + 1 < s_.size() && is_digit(s_[p_ + 1])) {
      t.kind = TokenKind::kParam;
      ++p_;
      while (p_ < s_.size() && is_digit(s_[p_])) ++p_;
      return true;
    }
    std::size_t q = p_ + 1;
    if (q < s_.size() && is_ident_start(s_[q])) {
      while (q < s_.size() && is_ident_char(s_[q]) && s_[q] != '$') ++q;
    }
    if (q >= s_.size() || s_[q] != '$') {
      t.kind = TokenKind::kPunct, ++p_;  // a lone `$`: not valid SQL, let the parser say so
      return true;
    }
    const std::string_view tag = s_.substr(p_, q - p_ + 1);
    const std::size_t close = s_.find(tag, q + 1);
    t.kind = TokenKind::kString;
    if (close == std::string_view::npos) return false;
    p_ = close + tag.size();
    return true;
  }

  void number() {
    while (p_ < s_.size() && is_digit(s_[p_])) ++p_;
    if (p_ < s_.size() && s_[p_] == '.' && !(p_ + 1 < s_.size() && s_[p_ + 1] == '.')) {
      ++p_;
      while (p_ < s_.size() && is_digit(s_[p_])) ++p_;
    }
    if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
      std::size_t q = p_ + 1;
      if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
      if (q < s_.size() && is_digit(s_[q])) {
        p_ = q;
        while (p_ < s_.size() && is_digit(s_[p_])) ++p_;
      }
    }
  }

  // scan.l: an operator run stops before `--` or `/*`; a multi-character
  // operator ending in + or - loses those unless it holds one of ~!@#%^&|`?.
  void op() {
    const std::size_t start = p_;
    while (p_ < s_.size() && is_op_char(s_[p_])) {
      if (p_ > start && (starts("--") || starts("/*"))) break;
      ++p_;
    }
    std::size_t len = p_ - start;
    const std::string_view run = s_.substr(start, len);
    if (len > 1 && run.find_first_of("~!@#%^&|`?") == std::string_view::npos) {
      while (len > 1 && (run[len - 1] == '+' || run[len - 1] == '-')) --len;
    }
    p_ = start + len;
  }

  std::string_view s_;
  std::size_t p_ = 0;
};

}  // namespace

bool TokenList::lex(std::string_view sql) {
  sql_ = sql;
  tokens_.clear();
  tokens_.reserve(sql.size() / 3 + 4);
  Scanner scanner(sql);
  for (;;) {
    if (!scanner.skip_space_and_comments()) return false;
    if (scanner.done()) return true;
    Token t;
    if (!scanner.next(t)) return false;
    tokens_.push_back(t);
  }
}

std::size_t TokenList::at_or_after(std::uint32_t offset) const {
  const auto it = std::lower_bound(tokens_.begin(), tokens_.end(), offset,
                                   [](const Token& t, std::uint32_t o) { return t.begin < o; });
  return static_cast<std::size_t>(it - tokens_.begin());
}

std::size_t TokenList::at(std::uint32_t offset) const {
  const std::size_t i = at_or_after(offset);
  return i < tokens_.size() && tokens_[i].begin == offset ? i : tokens_.size();
}

bool TokenList::is_keyword(std::size_t i, std::string_view lower_keyword) const {
  if (i >= tokens_.size() || tokens_[i].kind != TokenKind::kIdent) return false;
  const std::string_view t = text(i);
  if (t.size() != lower_keyword.size()) return false;
  for (std::size_t k = 0; k < t.size(); ++k) {
    char c = t[k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower_keyword[k]) return false;
  }
  return true;
}

}  // namespace pgshim::parser
