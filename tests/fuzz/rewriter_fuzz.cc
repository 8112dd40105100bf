// Fuzz target `rewriter`: the rewrite engine (rules/rewriter.h) on SQL mutated
// from real statements, with the fixed rule set of the rewriter's unit tests
// (tests/unit/rules/rewrite_fixture.h: rename, retype, add and drop column,
// rename table, each its own migration) and the physical schema of each phase.
//
// The first byte of the input chooses who asks; the rest is the SQL text.
//   bits 0-1  the phase of every migration: planned, expanded, backfilled, contracted
//   bit 2     0: the client speaks one version in all migrations, bit 3 says
//             which (0 old, 1 new); 1: bits 3-7 say, migration by migration,
//             whether it speaks new (a client matched by some selectors only)
// Properties beyond "no crash": those of rewrite_check.h, the pre-filter's
// promise that SQL it lets through unparsed names no rule table, and that of
// the prepared statement commands' keyword gate (parser/prepared_commands.h).
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "parser/analysis.h"
#include "parser/prepared_commands.h"
#include "rules/rewriter.h"
#include "tests/fuzz/rewrite_check.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::fuzz {
namespace {

using rules::Phase;

struct PhaseSetup {
  std::shared_ptr<const rules::Rewriter> rewriter;
  rules::StaticSchemaCache schema;
};

const PhaseSetup& setup(Phase phase) {
  static const std::array<PhaseSetup, 4> setups = [] {
    std::array<PhaseSetup, 4> s;
    for (int p = 0; p < 4; ++p) {
      const auto phase = static_cast<Phase>(p);
      auto created = rules::Rewriter::create(rules::testing::fixture_rules(phase));
      if (const auto* error = std::get_if<std::string>(&created)) fail("the fixture rules do not compile", *error);
      s[p].rewriter = std::get<std::shared_ptr<const rules::Rewriter>>(std::move(created));
      s[p].schema = rules::testing::fixture_schema(phase);
    }
    return s;
  }();
  return setups[static_cast<std::size_t>(phase)];
}

// The tables the fixture's rules name, old and new names alike.
const std::set<std::string, std::less<>>& rule_tables() {
  static const std::set<std::string, std::less<>> names = [] {
    std::set<std::string, std::less<>> n;
    for (const rules::Migration& m : rules::testing::fixture_rules(Phase::kPlanned).migrations) {
      for (const rules::Change& change : m.changes) {
        std::visit(
            [&n](const auto& c) {
              if constexpr (std::is_same_v<std::decay_t<decltype(c)>, rules::RenameTable>) {
                n.insert(c.from.name);
                n.insert(c.to.name);
              } else {
                n.insert(c.table.name);
              }
            },
            change.kind);
      }
    }
    return n;
  }();
  return names;
}

rules::ClientProfile profile_of(std::uint8_t mode) {
  if ((mode & 4) == 0) {
    return rules::ClientProfile::uniform((mode & 8) != 0 ? rules::ClientVersion::kNew : rules::ClientVersion::kOld);
  }
  return rules::ClientProfile{~std::uint64_t{0}, std::uint64_t{mode} >> 3};
}

void check_prefilter(const rules::Rewriter& rewriter, std::string_view sql) {
  if (rewriter.may_touch_rules(sql)) return;
  const parser::Analysis analysis(sql);
  if (!analysis.ok()) return;
  for (const parser::RelationRef& relation : analysis.model().relations) {
    require(!rule_tables().contains(relation.name), "the pre-filter let through SQL that names a rule table",
            std::string(sql));
  }
}

// The gate never hides a command, a command starts a statement of the text,
// and the statement a PREPARE names parses on its own (the proxy prepares it again).
void check_prepared_commands(std::string_view sql) {
  const auto commands = parser::prepared_commands(sql);
  if (!commands) return;
  const parser::PreparedKeywords keywords = parser::find_prepared_keywords(sql);
  for (const parser::PreparedCommand& c : *commands) {
    const bool executes = c.kind == parser::PreparedCommandKind::kExecute;
    require(executes ? keywords.executes : keywords.changes, "the keyword gate hides a prepared statement command",
            std::string(sql));
    require(c.statement_begin < sql.size(), "a prepared statement command starts past the text", std::string(sql));
    if (c.kind == parser::PreparedCommandKind::kPrepare) {
      require(parser::parses(c.body), "the statement of a PREPARE does not parse on its own", c.body);
    }
  }
}

void fuzz_one(std::uint8_t mode, std::string_view sql) {
  const PhaseSetup& s = setup(static_cast<Phase>(mode & 3));
  check_rewrite(sql, s.rewriter->rewrite(sql, profile_of(mode), s.schema));
  check_prefilter(*s.rewriter, sql);
  check_prepared_commands(sql);
}

}  // namespace
}  // namespace pgshim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return pgshim::fuzz::run_with_mode(data, size, pgshim::fuzz::fuzz_one);
}
