// The rewriter's contract (DESIGN.md section 3, rules/rewriter.h), checked on
// every result a fuzz target gets: unparseable SQL comes back unchanged; a
// rewrite parses (pgshim never forwards a half-rewritten statement) and keeps
// every byte outside its edits, which its mappings locate exactly (they map
// the server's error positions back); a refusal carries a SQLSTATE and a
// message for the ErrorResponse.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parser/analysis.h"
#include "rules/rewrite_result.h"
#include "tests/fuzz/fuzz_check.h"

namespace pgshim::fuzz {

inline std::string before_after(std::string_view sql, const rules::RewriteResult& result) {
  std::string text = "SQL:       " + std::string(sql) + "\nrewritten: " + result.sql;
  if (result.status == rules::RewriteStatus::kError) text += "\nerror:     " + result.message;
  return text;
}

// The bytes outside the mapped spans are the same, in the same order.
inline void check_mappings(std::string_view sql, const rules::RewriteResult& result) {
  const std::string_view out = result.sql;
  std::uint32_t old_at = 0;
  std::uint32_t new_at = 0;
  for (const parser::EditMapping& m : result.mappings) {
    require(m.old_begin >= old_at && m.old_begin <= m.old_end && m.old_end <= sql.size() && m.new_begin >= new_at &&
                m.new_begin <= m.new_end && m.new_end <= out.size(),
            "edit mappings out of order or out of bounds", before_after(sql, result));
    require(sql.substr(old_at, m.old_begin - old_at) == out.substr(new_at, m.new_begin - new_at),
            "a rewrite changed bytes outside its edits", before_after(sql, result));
    old_at = m.old_end;
    new_at = m.new_end;
  }
  require(sql.substr(old_at) == out.substr(new_at), "a rewrite changed bytes after its last edit",
          before_after(sql, result));
}

inline void check_rewrite(std::string_view sql, const rules::RewriteResult& result) {
  switch (result.status) {
    case rules::RewriteStatus::kUnchanged:
      return;
    case rules::RewriteStatus::kError:
      require(result.sqlstate.size() == 5 && !result.message.empty(), "a refusal without SQLSTATE or message",
              before_after(sql, result));
      return;
    case rules::RewriteStatus::kRewritten:
      require(parser::parses(sql), "unparseable SQL was rewritten instead of forwarded unchanged",
              before_after(sql, result));
      require(parser::parses(result.sql), "a rewritten statement does not parse", before_after(sql, result));
      check_mappings(sql, result);
      return;
  }
}

}  // namespace pgshim::fuzz
