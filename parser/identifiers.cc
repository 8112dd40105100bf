#include "parser/identifiers.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <unordered_set>

namespace pgshim::parser {
namespace {

struct Keyword {
  std::string_view name;
  bool unreserved;
};

// PostgreSQL's own keyword list (sorted by name), from the server headers, so
// quoting follows the grammar of the version the proxy parses with.
constexpr bool kUNRESERVED_KEYWORD = true;
constexpr bool kCOL_NAME_KEYWORD = false;
constexpr bool kTYPE_FUNC_NAME_KEYWORD = false;
constexpr bool kRESERVED_KEYWORD = false;
#define PG_KEYWORD(kwname, value, category, collabel) Keyword{kwname, k##category},
constexpr Keyword kKeywords[] = {
#include <parser/kwlist.h>
};
#undef PG_KEYWORD

constexpr std::size_t kLongestKeyword = [] {
  std::size_t n = 0;
  for (const Keyword& k : kKeywords) n = k.name.size() > n ? k.name.size() : n;
  return n;
}();

bool plain_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || c == '_' || (!first && ((c >= '0' && c <= '9') || c == '$'));
}

}  // namespace

bool is_non_unreserved_keyword(std::string_view lower_word) {
  // Called for every identifier the rewriter writes: a hash lookup of the
  // keywords that need quoting beats a binary search over all of them.
  static const std::unordered_set<std::string_view> kQuoted = [] {
    std::unordered_set<std::string_view> set;
    for (const Keyword& k : kKeywords) {
      if (!k.unreserved) set.insert(k.name);
    }
    return set;
  }();
  if (lower_word.size() > kLongestKeyword) return false;
  return kQuoted.count(lower_word) != 0;
}

void append_identifier(std::string& out, std::string_view name) {
  bool plain = !name.empty();
  for (std::size_t i = 0; plain && i < name.size(); ++i) plain = plain_char(name[i], i == 0);
  if (plain && !is_non_unreserved_keyword(name)) {
    out.append(name);
    return;
  }
  out.push_back('"');
  for (const char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string quote_identifier(std::string_view name) {
  std::string out;
  append_identifier(out, name);
  return out;
}

}  // namespace pgshim::parser
