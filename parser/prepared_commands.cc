#include "parser/prepared_commands.h"

#include <cstdint>
#include <cstring>

#include "parser/lexer.h"
#include "parser/raw_tree.h"

namespace pgshim::parser {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool starts_with_keyword(std::string_view sql, std::size_t at, std::string_view lower_keyword) {
  if (sql.size() - at < lower_keyword.size()) return false;
  for (std::size_t k = 0; k < lower_keyword.size(); ++k) {
    if (lower(sql[at + k]) != lower_keyword[k]) return false;
  }
  return true;
}

// Finds the text of one statement's commands from its raw tree.
class Collector {
 public:
  Collector(const TokenList& tokens, std::vector<PreparedCommand>& out) : tokens_(tokens), out_(out) {}

  // False when a PREPARE's parts are not where the grammar puts them.
  bool statement(RawStmt* raw) {
    const auto size = static_cast<std::uint32_t>(tokens_.sql().size());
    begin_ = raw->stmt_location < 0 ? 0 : static_cast<std::uint32_t>(raw->stmt_location);
    end_ = raw->stmt_len == 0 ? size : begin_ + static_cast<std::uint32_t>(raw->stmt_len);
    first_ = tokens_.at_or_after(begin_);
    if (first_ >= tokens_.size()) return true;
    return node(raw->stmt);
  }

 private:
  bool node(Node* stmt) {
    if (stmt == nullptr) return true;
    switch (nodeTag(stmt)) {
      case T_PrepareStmt: return prepare(castNode(PrepareStmt, stmt));
      case T_ExecuteStmt: return add(PreparedCommandKind::kExecute, castNode(ExecuteStmt, stmt)->name);
      case T_ExplainStmt: return node(castNode(ExplainStmt, stmt)->query);
      case T_CreateTableAsStmt: return node(castNode(CreateTableAsStmt, stmt)->query);
      case T_DeallocateStmt: {
        const char* name = castNode(DeallocateStmt, stmt)->name;
        return name == nullptr ? add(PreparedCommandKind::kDeallocateAll, "")
                               : add(PreparedCommandKind::kDeallocate, name);
      }
      case T_DiscardStmt:
        if (castNode(DiscardStmt, stmt)->target != DISCARD_ALL) return true;
        return add(PreparedCommandKind::kDiscardAll, "");
      default:
        return true;
    }
  }

  bool add(PreparedCommandKind kind, const char* name) {
    out_.push_back(PreparedCommand{kind, name != nullptr ? name : "", tokens_[first_].begin, {}, {}});
    return true;
  }

  // PREPARE name [ ( type [, ...] ) ] AS statement
  bool prepare(PrepareStmt* stmt) {
    std::size_t i = first_;
    if (!tokens_.is_keyword(i, "prepare") || i + 1 >= tokens_.size()) return false;
    i += 2;  // the name
    std::string types;
    if (tokens_.is_punct(i, '(')) {
      const std::size_t open = i;
      int depth = 0;
      for (; i < tokens_.size(); ++i) {
        if (tokens_.is_punct(i, '(')) ++depth;
        if (tokens_.is_punct(i, ')') && --depth == 0) break;
      }
      if (i >= tokens_.size() || i == open + 1) return false;
      types = std::string(span(open + 1, i - 1));
      ++i;
    }
    if (!tokens_.is_keyword(i, "as")) return false;
    const std::size_t body_first = i + 1;
    const std::size_t after = tokens_.at_or_after(end_);
    if (body_first >= after) return false;
    add(PreparedCommandKind::kPrepare, stmt->name);
    out_.back().types = std::move(types);
    out_.back().body = std::string(span(body_first, after - 1));
    return true;
  }

  // The text from token `first` to the end of token `last`, comments inside included.
  std::string_view span(std::size_t first, std::size_t last) const {
    return tokens_.sql().substr(tokens_[first].begin, tokens_[last].end - tokens_[first].begin);
  }

  const TokenList& tokens_;
  std::vector<PreparedCommand>& out_;
  std::uint32_t begin_ = 0;
  std::uint32_t end_ = 0;
  std::size_t first_ = 0;
};

}  // namespace

PreparedKeywords find_prepared_keywords(std::string_view sql) {
  // Every Query and Parse passes here, so it looks at 16 bytes at a time for a
  // pair of letters that each keyword holds and common SQL seldom does, and
  // checks the whole keyword only around such a pair.
  struct Keyword {
    char first;           // the pair, lower case
    char second;
    std::size_t offset;   // where in the keyword the pair starts
    std::string_view word;
    bool executes;
  };
  static constexpr Keyword kKeywords[] = {
      {'x', 'e', 1, "execute", true},
      {'e', 'p', 2, "prepare", false},
      {'s', 'c', 2, "discard", false},
      {'l', 'l', 3, "deallocate", false},
  };
  using Bytes = unsigned char __attribute__((vector_size(16)));
  // OR 0x20 lowers the letters A-Z and turns no other byte into a letter.
  const auto lowered = [](const char* at) {
    Bytes v;
    std::memcpy(&v, at, sizeof v);
    return v | 0x20;
  };
  PreparedKeywords found;
  for (std::size_t block = 0; block + 1 < sql.size(); block += 16) {
    Bytes a;
    Bytes b;
    if (sql.size() - block >= 17) {
      a = lowered(sql.data() + block);
      b = lowered(sql.data() + block + 1);
    } else {
      char tail[33] = {};  // zeros end any pair at the end of `sql`
      std::memcpy(tail, sql.data() + block, sql.size() - block);
      a = lowered(tail);
      b = lowered(tail + 1);
    }
    decltype(a == b) pairs{};
    // Unrolled, as the table is constant; a loop here doubles the cost of the gate.
#pragma GCC unroll 4
    for (const Keyword& k : kKeywords) pairs |= (a == k.first) & (b == k.second);
    std::uint64_t halves[2];
    std::memcpy(halves, &pairs, sizeof halves);
    if ((halves[0] | halves[1]) == 0) continue;
    for (std::size_t lane = 0; lane < 16 && block + lane + 1 < sql.size(); ++lane) {
      if (pairs[lane] == 0) continue;
      const std::size_t at = block + lane;
      for (const Keyword& k : kKeywords) {
        if (lower(sql[at]) == k.first && lower(sql[at + 1]) == k.second && at >= k.offset &&
            starts_with_keyword(sql, at - k.offset, k.word)) {
          (k.executes ? found.executes : found.changes) = true;
        }
      }
    }
  }
  return found;
}

std::optional<std::vector<PreparedCommand>> prepared_commands(std::string_view sql) {
  const std::string text(sql);  // NUL-terminated for the C parser
  if (text.find('\0') != std::string::npos || text.size() >= UINT32_MAX / 2) return std::nullopt;
  TokenList tokens;
  if (!tokens.lex(text)) return std::nullopt;
  detail::RawTree tree(text.c_str());
  if (!tree.ok()) return std::nullopt;
  std::vector<PreparedCommand> commands;
  Collector collector(tokens, commands);
  ListCell* cell;
  foreach (cell, tree.statements()) {
    if (!collector.statement(lfirst_node(RawStmt, cell))) return std::nullopt;
  }
  return commands;
}

}  // namespace pgshim::parser
