// The rewrite engine's entry point (DESIGN.md sections 2 and 3): given the
// rules in force, a client's profile (which migrations apply, which version it
// speaks in each) and the schema cache, turn one SQL string (one or more
// statements, as in a simple Query or a Parse) into the text to send, leave it
// unchanged, or refuse it with a SQLSTATE.
//
// A Rewriter is immutable once created and safe to share between threads; the
// proxy builds a new one on each reload (and swaps it at a transaction
// boundary). Each rewrite parses on the calling thread (parser::Analysis).
//
// Known limits, by design or not yet done (each is refused in strict mode
// when it matters, never half-rewritten):
// - Function bodies, DO blocks, view and rule definitions, CREATE MATERIALIZED
//   VIEW and other DDL are not rewritten (DESIGN.md section 3).
// - COPY FROM can only rename columns: a column whose value must be computed
//   in the phase (retype, a companion while both exist) is refused.
// - A converted value must be locatable: INSERT ... SELECT * and
//   SET (a, b) = (SELECT ...) are refused when a column in them is converted.
// - An unqualified column of an UPDATE/DELETE/MERGE target referenced inside a
//   sub-query whose tables are unknown (neither rules nor schema cache) is
//   ambiguous to us and refused; qualify it.
// - A dropped column's written value that is a bind parameter is kept, typed,
//   in an unread CTE; one that is an expression holding a parameter is refused.
// - up/down should only reference their source column; the written value is
//   substituted for it, other columns are left as written.
// - Positional `*` and INSERT without a column list follow DESIGN.md's order
//   (physical order, counterparts in place, version-only columns appended).
// - standard_conforming_strings is assumed on (PostgreSQL's default).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rules/model.h"
#include "rules/prefilter.h"
#include "rules/rewrite_result.h"
#include "rules/rewrite_rules.h"
#include "rules/schema_cache.h"

namespace pgshim::rules {

class Rewriter {
 public:
  // Compiles `rules` (phases overridden by `phase_override` when given, for
  // `pgshim rewrite --phase`); fails with a sentence when an up/down
  // expression does not parse or there are more than 64 migrations.
  [[nodiscard]] static std::variant<std::shared_ptr<const Rewriter>, std::string> create(
      const RuleSet& rules, std::optional<Phase> phase_override = std::nullopt);

  // Unparseable SQL and SQL that touches no rule table come back unchanged;
  // otherwise the whole string is rewritten, or refused, never half of it.
  [[nodiscard]] RewriteResult rewrite(std::string_view sql, const ClientProfile& profile,
                                      const SchemaCache& schema) const;

  // The pre-filter alone: false when `sql` certainly touches no rule table.
  [[nodiscard]] bool may_touch_rules(std::string_view sql) const { return prefilter_.may_match(sql); }

  // The rule set's generation, and a number unique to this Rewriter in the
  // process (two Rewriters built from one RuleSet with different phase
  // overrides differ): caches key on the latter.
  [[nodiscard]] std::uint64_t generation() const { return rules_.generation(); }
  [[nodiscard]] std::uint64_t instance() const { return instance_; }
  [[nodiscard]] const RewriteRules& rules() const { return rules_; }

 private:
  explicit Rewriter(RewriteRules rules);

  RewriteRules rules_;
  Prefilter prefilter_;
  std::uint64_t instance_;
};

// `pgshim rewrite --rules DIR --as old|new [--phase P] [--schema-from DSN] SQL`
// as a pure function: every migration of `rules` applies and the client speaks
// `version` in all of them. The CLI prints result.sql when rewritten, `sql`
// when unchanged, and the message (exit code 2) on error.
[[nodiscard]] RewriteResult rewrite_for_cli(const RuleSet& rules, ClientVersion version,
                                            std::optional<Phase> phase, const SchemaCache& schema,
                                            std::string_view sql);

}  // namespace pgshim::rules
