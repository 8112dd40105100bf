#include "parser/token_spans.h"

#include <array>
#include <string_view>

namespace pgshim::parser {
namespace {

bool is_name_token(const TokenList& tokens, std::size_t i) {
  if (i >= tokens.size()) return false;
  const TokenKind k = tokens[i].kind;
  return k == TokenKind::kIdent || k == TokenKind::kQuotedIdent || tokens.is_operator(i, "*");
}

bool opens(const TokenList& tokens, std::size_t i) {
  return tokens.is_punct(i, '(') || tokens.is_punct(i, '[');
}
bool closes(const TokenList& tokens, std::size_t i) {
  return tokens.is_punct(i, ')') || tokens.is_punct(i, ']');
}

// Words that end an expression at the top level once its last node is behind.
constexpr std::array<std::string_view, 17> kClauseWords = {
    "from",  "into",  "where",     "group",  "having", "window",    "order", "limit", "offset",
    "fetch", "for",   "union",     "intersect", "except", "on", "returning", "when"};

bool is_clause_word(const TokenList& tokens, std::size_t i) {
  if (tokens[i].kind != TokenKind::kIdent) return false;
  for (const std::string_view w : kClauseWords) {
    if (tokens.is_keyword(i, w)) return true;
  }
  return false;
}

}  // namespace

std::optional<NameSpan> dotted_name_at(const TokenList& tokens, std::uint32_t location, int parts) {
  std::size_t i = tokens.at(location);
  if (!is_name_token(tokens, i)) return std::nullopt;
  const std::uint32_t begin = tokens[i].begin;
  for (int p = 1; p < parts; ++p) {
    if (!tokens.is_punct(i + 1, '.') || !is_name_token(tokens, i + 2)) return std::nullopt;
    i += 2;
  }
  return NameSpan{Span{begin, tokens[i].end}, i};
}

std::size_t matching_close(const TokenList& tokens, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < tokens.size(); ++i) {
    if (opens(tokens, i)) {
      ++depth;
    } else if (closes(tokens, i) && --depth == 0) {
      return i;
    }
  }
  return tokens.size();
}

std::optional<ListSpans> split_list(const TokenList& tokens, std::size_t open) {
  if (!tokens.is_punct(open, '(')) return std::nullopt;
  ListSpans out;
  int depth = 0;
  std::size_t first = open + 1;  // first token of the current element
  for (std::size_t i = open + 1; i < tokens.size(); ++i) {
    if (opens(tokens, i)) {
      ++depth;
    } else if (closes(tokens, i)) {
      if (depth-- > 0) continue;
      if (i > first) out.elements.push_back(Span{tokens[first].begin, tokens[i - 1].end});
      out.close = i;
      return out;
    } else if (depth == 0 && tokens.is_punct(i, ',')) {
      if (i == first) return std::nullopt;
      out.elements.push_back(Span{tokens[first].begin, tokens[i - 1].end});
      first = i + 1;
    }
  }
  return std::nullopt;
}

std::uint32_t expression_end(const TokenList& tokens, std::size_t first, int max_location,
                             std::uint32_t limit) {
  int depth = 0;
  std::uint32_t end = first < tokens.size() ? tokens[first].begin : limit;
  for (std::size_t i = first; i < tokens.size() && tokens[i].begin < limit; ++i) {
    if (opens(tokens, i)) {
      ++depth;
    } else if (closes(tokens, i)) {
      if (depth-- == 0) break;
    } else if (depth == 0) {
      if (tokens.is_punct(i, ',') || tokens.is_punct(i, ';')) break;
      // After `.` a keyword is a field name (`t.on`, `e.from`), never a clause.
      if (static_cast<int>(tokens[i].begin) > max_location && is_clause_word(tokens, i) &&
          !(i > first && tokens.is_punct(i - 1, '.'))) {
        break;
      }
    }
    end = tokens[i].end;
  }
  return end;
}

std::size_t skip_indirection(const TokenList& tokens, std::size_t i) {
  for (;;) {
    if (tokens.is_punct(i, '[')) {
      const std::size_t close = matching_close(tokens, i);
      if (close >= tokens.size()) return close;
      i = close + 1;
    } else if (tokens.is_punct(i, '.') && is_name_token(tokens, i + 1)) {
      i += 2;
    } else {
      return i;
    }
  }
}

}  // namespace pgshim::parser
