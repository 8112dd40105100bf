// Text spans the raw tree does not record, recovered from the token list:
// where a qualified name, an expression or a parenthesized list ends. The
// tree gives start offsets; these functions find the matching ends without
// guessing about anything the tree already fixed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "parser/lexer.h"
#include "parser/statement_model.h"

namespace pgshim::parser {

// The span of a name of `parts` dot-separated identifiers (or `*`) starting at
// byte `location`, and the index of its last token; nullopt when the tokens
// there do not look like one.
struct NameSpan {
  Span whole;
  std::size_t last = 0;
};
[[nodiscard]] std::optional<NameSpan> dotted_name_at(const TokenList& tokens, std::uint32_t location,
                                                     int parts);

// The elements of the parenthesized list opening at token `open` (a `(`),
// split at top-level commas, and the index of its closing `)`. nullopt when
// the parentheses do not balance. `()` yields no element.
struct ListSpans {
  std::vector<Span> elements;
  std::size_t close = 0;
};
[[nodiscard]] std::optional<ListSpans> split_list(const TokenList& tokens, std::size_t open);

// The end offset of an expression whose first token is `first` and whose last
// node starts at byte `max_location`: it runs until a top-level `,` or `;`, an
// unbalanced `)` or `]`, the offset `limit`, or a clause keyword (FROM, WHERE,
// RETURNING, ON, WHEN, ...) that comes after `max_location` (before it, such
// a word is part of the expression, as in IS DISTINCT FROM; after a `.` it is
// a field name, as in `t.on`).
[[nodiscard]] std::uint32_t expression_end(const TokenList& tokens, std::size_t first,
                                           int max_location, std::uint32_t limit);

// The index of the first token after a column's indirection (`[i]`, `.f`)
// that starts at token `i`.
[[nodiscard]] std::size_t skip_indirection(const TokenList& tokens, std::size_t i);

// The index of the matching closing bracket of the `(` or `[` at `open`, or
// tokens.size().
[[nodiscard]] std::size_t matching_close(const TokenList& tokens, std::size_t open);

}  // namespace pgshim::parser
