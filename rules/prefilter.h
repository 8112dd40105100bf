// Recognises, without parsing, SQL that cannot touch a rule table: it looks
// for the rule tables' names as case-insensitive substrings. False positives
// only cost a parse; there are no false negatives for names PostgreSQL can
// read from the text (bare, quoted, schema-qualified, any case), and text that
// could spell a name with Unicode escapes (U&"...") always goes to the parser.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::rules {

class Prefilter {
 public:
  Prefilter() = default;
  // `names`: folded table names, as in the rules.
  explicit Prefilter(const std::vector<std::string>& names);

  // False only when `sql` certainly names none of the tables.
  [[nodiscard]] bool may_match(std::string_view sql) const;

 private:
  std::vector<std::string> names_;  // ASCII lower case
  std::array<bool, 256> first_{};   // bytes that may start a name, both cases
  bool always_ = false;             // a name a substring search cannot find
};

}  // namespace pgshim::rules
