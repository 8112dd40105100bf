// The table-driven rewriter test (issue 3): each row is a change kind, a phase,
// a client version, the client's SQL and what the rewriter must answer: "="
// for unchanged (sent byte for byte), "!SQLSTATE message" for an error, or the
// exact rewritten SQL, which must also parse again with libpg_query. Every
// migration of the fixture is in the row's phase.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "parser/analysis.h"
#include "rules/rewriter.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::rules::testing {

struct TableRow {
  const char* kind;
  Phase phase;
  ClientVersion version;
  const char* sql;
  const char* expected;
};

inline constexpr Phase kPlanned = Phase::kPlanned;
inline constexpr Phase kExpanded = Phase::kExpanded;
inline constexpr Phase kBackfilled = Phase::kBackfilled;
inline constexpr Phase kContracted = Phase::kContracted;
inline constexpr ClientVersion kOld = ClientVersion::kOld;
inline constexpr ClientVersion kNew = ClientVersion::kNew;

inline void check_row(const TableRow& row) {
  const auto schema = fixture_schema(row.phase);
  const auto rewriter = std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(fixture_rules(row.phase)));
  const RewriteResult r = rewriter->rewrite(row.sql, ClientProfile::uniform(row.version), schema);
  const std::string_view expected = row.expected;
  SCOPED_TRACE(row.sql);
  if (expected == "=") {
    EXPECT_EQ(r.status, RewriteStatus::kUnchanged) << r.sql << r.message;
  } else if (expected.front() == '!') {
    ASSERT_EQ(r.status, RewriteStatus::kError) << r.sql;
    EXPECT_EQ("!" + r.sqlstate + " " + r.message, expected);
  } else {
    ASSERT_EQ(r.status, RewriteStatus::kRewritten) << r.message;
    EXPECT_EQ(r.sql, expected);
    EXPECT_TRUE(parser::parses(r.sql)) << "does not parse again";
  }
}

inline std::string row_name(const TableRow& row, std::size_t index) {
  static constexpr const char* kPhases[] = {"planned", "expanded", "backfilled", "contracted"};
  std::string name = std::to_string(index) + "_" + row.kind + "_" + kPhases[static_cast<int>(row.phase)] +
                     (row.version == ClientVersion::kOld ? "_old" : "_new");
  return name;
}

}  // namespace pgshim::rules::testing
