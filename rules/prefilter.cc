#include "rules/prefilter.h"

namespace pgshim::rules {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

bool equal_at(std::string_view sql, std::size_t at, const std::string& lower_name) {
  if (sql.size() - at < lower_name.size()) return false;
  for (std::size_t k = 0; k < lower_name.size(); ++k) {
    if (lower(sql[at + k]) != lower_name[k]) return false;
  }
  return true;
}

}  // namespace

Prefilter::Prefilter(const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    // A quote inside a name is doubled in SQL text; an empty name matches anything.
    if (name.empty() || name.find('"') != std::string::npos) always_ = true;
    std::string folded;
    for (const char c : name) folded.push_back(lower(c));
    if (folded.empty()) continue;
    first_[static_cast<unsigned char>(folded[0])] = true;
    first_[static_cast<unsigned char>(upper(folded[0]))] = true;
    names_.push_back(std::move(folded));
  }
}

bool Prefilter::may_match(std::string_view sql) const {
  if (always_) return true;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    // U&"d\0061ta": an identifier spelled with escapes.
    if ((c == '&') && i > 0 && lower(sql[i - 1]) == 'u' && i + 1 < sql.size() && sql[i + 1] == '"') return true;
    if (!first_[static_cast<unsigned char>(c)]) continue;
    for (const std::string& name : names_) {
      if (name[0] == lower(c) && equal_at(sql, i, name)) return true;
    }
  }
  return false;
}

}  // namespace pgshim::rules
