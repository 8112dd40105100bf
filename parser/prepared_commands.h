// The SQL-level prepared statement commands of a SQL string (PostgreSQL
// documentation, "PREPARE", "EXECUTE", "DEALLOCATE", "DISCARD"), in statement
// order, so that the proxy can keep each statement a client prepared with SQL
// and prepare it again before an EXECUTE after a phase switch.
//
// The server keeps prepared statements outside transactions: PREPARE and
// DEALLOCATE take effect at once and are not undone by ROLLBACK, so their order
// in the text is all that matters. Names are folded as PostgreSQL folds them and
// share one namespace with the extended protocol's named statements.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::parser {

enum class PreparedCommandKind : std::uint8_t {
  kPrepare,        // PREPARE name [(types)] AS statement
  kExecute,        // EXECUTE name, also inside EXPLAIN and CREATE TABLE ... AS EXECUTE
  kDeallocate,     // DEALLOCATE [PREPARE] name
  kDeallocateAll,  // DEALLOCATE [PREPARE] ALL
  kDiscardAll,     // DISCARD ALL (which deallocates every statement)
};

struct PreparedCommand {
  PreparedCommandKind kind = PreparedCommandKind::kExecute;
  std::string name;  // "" for the ALL kinds
  // Offset of the statement's first token: text inserted there runs just
  // before this statement (after the comments that lead it).
  std::uint32_t statement_begin = 0;
  // kPrepare only: the parameter type list as written, without its
  // parentheses ("" when there is none), and the statement after AS as written,
  // up to its last token (a trailing comment is left out).
  std::string types;
  std::string body;

  friend bool operator==(const PreparedCommand&, const PreparedCommand&) = default;
};

// Which of the commands' keywords `sql` holds, in any case, anywhere (a
// keyword is one token: it cannot be split or quoted, so a command whose
// keyword is not found is certainly not there). A cheap gate before parsing.
struct PreparedKeywords {
  bool changes = false;   // PREPARE, DEALLOCATE or DISCARD
  bool executes = false;  // EXECUTE
  friend bool operator==(const PreparedKeywords&, const PreparedKeywords&) = default;
};
[[nodiscard]] PreparedKeywords find_prepared_keywords(std::string_view sql);

// The commands of `sql`, in order; the other statements are left out. nullopt
// when `sql` does not parse (the server will refuse it whole).
[[nodiscard]] std::optional<std::vector<PreparedCommand>> prepared_commands(std::string_view sql);

}  // namespace pgshim::parser
