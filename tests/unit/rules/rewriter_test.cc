// The rewriter's contract beyond single rows of the phase matrix: what comes
// back unchanged, byte for byte; comments and formatting; several statements
// in one string; strictness; schema-less rewrites; error positions; profiles.
#include "rules/rewriter.h"

#include <gtest/gtest.h>

#include <string>

#include "parser/analysis.h"
#include "parser/text_edit.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::rules {
namespace {

using testing::fixture_rules;
using testing::fixture_schema;

std::shared_ptr<const Rewriter> make(const RuleSet& rules) {
  auto created = Rewriter::create(rules);
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const Rewriter>>(created));
  return std::get<std::shared_ptr<const Rewriter>>(created);
}

RewriteResult run(Phase phase, ClientVersion version, std::string_view sql) {
  const auto schema = fixture_schema(phase);
  return make(fixture_rules(phase))->rewrite(sql, ClientProfile::uniform(version), schema);
}

TEST(Rewriter, PrefilterPassesStatementsWithoutRuleTables) {
  const auto rewriter = make(fixture_rules(Phase::kPlanned));
  EXPECT_FALSE(rewriter->may_touch_rules("SELECT * FROM audit WHERE id = 1"));
  EXPECT_TRUE(rewriter->may_touch_rules("select * from USERS"));
  EXPECT_TRUE(rewriter->may_touch_rules("select * from public.\"Users\""));  // false positive: fine
  EXPECT_TRUE(rewriter->may_touch_rules("select * from U&\"\\0075sers\""));
  EXPECT_TRUE(rewriter->may_touch_rules("SELECT 1 FROM customers"));
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kNew, "SELECT * FROM audit").status, RewriteStatus::kUnchanged);
}

TEST(Rewriter, UnparseableSqlIsLeftToTheServer) {
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kNew, "SELEC display_name FROM users").status,
            RewriteStatus::kUnchanged);
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kNew, "SELECT 'users").status, RewriteStatus::kUnchanged);
}

TEST(Rewriter, NothingToDoIsUnchanged) {
  // An old client in `planned` sees the database as it is.
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kOld, "SELECT * FROM users").status, RewriteStatus::kUnchanged);
  // A column name in a string or comment is not a reference.
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kNew, "SELECT 'users' -- users\n").status,
            RewriteStatus::kUnchanged);
  // A CTE named like a rule table shadows it.
  EXPECT_EQ(run(Phase::kPlanned, ClientVersion::kNew, "WITH users AS (SELECT 1 AS display_name) SELECT * FROM users")
                .status,
            RewriteStatus::kUnchanged);
}

TEST(Rewriter, KeepsCommentsAndFormattingOutsideEditedSpans) {
  const auto r = run(Phase::kPlanned, ClientVersion::kNew,
                     "/* lead */ UPDATE   users\n  SET display_name = 'x' -- why\n  WHERE id = 1;");
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  EXPECT_EQ(r.sql, "/* lead */ UPDATE   users\n  SET fullname = 'x' -- why\n  WHERE id = 1;");
}

TEST(Rewriter, RewritesEveryStatementOfAString) {
  const auto r = run(Phase::kPlanned, ClientVersion::kNew,
                     "SELECT 1; UPDATE users SET display_name = 'q'; SELECT * FROM audit; DELETE FROM users "
                     "WHERE display_name = 'z'");
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  EXPECT_EQ(r.sql,
            "SELECT 1; UPDATE users SET fullname = 'q'; SELECT * FROM audit; DELETE FROM users WHERE "
            "users.fullname = 'z'");
}

TEST(Rewriter, OneRefusedStatementRefusesTheString) {
  const auto r = run(Phase::kPlanned, ClientVersion::kNew,
                     "UPDATE users SET display_name = 'q'; UPDATE users SET nickname = 'n'");
  EXPECT_EQ(r.status, RewriteStatus::kError);
  EXPECT_EQ(r.sqlstate, "0A000");
  EXPECT_NE(r.message.find("column not yet created"), std::string::npos) << r.message;
}

TEST(Rewriter, NonStrictMigrationSendsWhatItCannotRewriteAsIs) {
  RuleSet rules = fixture_rules(Phase::kPlanned);
  for (Migration& m : rules.migrations) m.strict = false;
  const auto schema = fixture_schema(Phase::kPlanned);
  const auto rewriter = make(rules);
  const std::string sql = "INSERT INTO orders (id, price_cents) SELECT * FROM audit";
  EXPECT_EQ(rewriter->rewrite(sql, ClientProfile::uniform(ClientVersion::kNew), schema).status,
            RewriteStatus::kUnchanged);
  rules.migrations[testing::kRetype].strict = true;
  const auto strict = make(rules)->rewrite(sql, ClientProfile::uniform(ClientVersion::kNew), schema);
  EXPECT_EQ(strict.status, RewriteStatus::kError);
  EXPECT_EQ(strict.message, "pgshim: cannot rewrite INSERT ... SELECT into price_cents: its values cannot be located");
}

// An INSERT whose rows do not match its columns, which PostgreSQL refuses only
// after parsing, is refused before any value is moved or dropped.
TEST(Rewriter, InsertRowsThatDoNotMatchTheColumnsAreRefused) {
  // An old client in `expanded` sees users as (id, fullname, email, legacy_flag).
  const auto more = run(Phase::kExpanded, ClientVersion::kOld, "INSERT INTO users VALUES (1, 'n', 'e', true, 5)");
  EXPECT_EQ(more.status, RewriteStatus::kError);
  EXPECT_EQ(more.message, "pgshim: cannot rewrite INSERT: a row has more values than columns");
  const auto ragged = run(Phase::kExpanded, ClientVersion::kOld,
                          "INSERT INTO users VALUES (1, 'n', 'e', true), (2, 'm')");
  EXPECT_EQ(ragged.status, RewriteStatus::kError);
  EXPECT_EQ(ragged.message, "pgshim: cannot rewrite INSERT: a row has fewer values than columns");
  const auto listed = run(Phase::kExpanded, ClientVersion::kOld,
                          "INSERT INTO users (id, legacy_flag) VALUES (1, true), (2, false, 3)");
  EXPECT_EQ(listed.status, RewriteStatus::kError);
  const auto fewer = run(Phase::kExpanded, ClientVersion::kOld, "INSERT INTO users VALUES (1, 'n')");
  ASSERT_EQ(fewer.status, RewriteStatus::kRewritten);
  EXPECT_EQ(fewer.sql, "INSERT INTO users (id, fullname, display_name) VALUES (1, 'n', 'n')");
}

TEST(Rewriter, WithoutSchemaStarIsAnErrorButNamedColumnsWork) {
  const StaticSchemaCache none;
  const auto rewriter = make(fixture_rules(Phase::kPlanned));
  const auto profile = ClientProfile::uniform(ClientVersion::kNew);
  const auto named = rewriter->rewrite("SELECT display_name FROM users WHERE id = 1", profile, none);
  ASSERT_EQ(named.status, RewriteStatus::kRewritten);
  EXPECT_EQ(named.sql,
            "SELECT display_name FROM (SELECT *, fullname AS display_name, (('anon')::text) AS nickname FROM users) "
            "users WHERE id = 1");
  const auto star = rewriter->rewrite("SELECT u.* FROM users u", profile, none);
  ASSERT_EQ(star.status, RewriteStatus::kError);
  EXPECT_EQ(star.message, "pgshim: cannot rewrite * on users: cannot expand * without a schema (use --schema-from)");
  const auto returning = rewriter->rewrite("DELETE FROM users RETURNING *", profile, none);
  EXPECT_EQ(returning.status, RewriteStatus::kError);
}

TEST(Rewriter, ProfilesChooseTheVersionPerMigration) {
  const auto schema = fixture_schema(Phase::kPlanned);
  const auto rewriter = make(fixture_rules(Phase::kPlanned));
  ClientProfile profile;  // old everywhere except the table rename
  profile.speaks_new = std::uint64_t{1} << testing::kRenameTable;
  const auto r = rewriter->rewrite("SELECT fullname FROM customers c, users u", profile, schema);
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  EXPECT_EQ(r.sql, "SELECT fullname FROM customer c, users u");
  profile.active = ~(std::uint64_t{1} << testing::kRenameTable);  // not for this database
  EXPECT_EQ(rewriter->rewrite("SELECT * FROM customers", profile, schema).status, RewriteStatus::kUnchanged);
}

TEST(Rewriter, MapsPositionsInTheRewrittenTextBack) {
  const std::string sql = "UPDATE users SET display_name = 1 WHERE nope = 2";
  const auto r = run(Phase::kPlanned, ClientVersion::kNew, sql);
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  const auto at = static_cast<std::uint32_t>(r.sql.find("nope"));
  EXPECT_EQ(parser::map_to_source(r.mappings, at), sql.find("nope"));
}

TEST(Rewriter, ReportsTheChangesItApplied) {
  const auto r = run(Phase::kPlanned, ClientVersion::kNew, "SELECT price_cents FROM orders");
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  ASSERT_EQ(r.applied.size(), 1u);
  EXPECT_EQ(r.applied[0].migration, static_cast<std::uint32_t>(testing::kRetype));
}

TEST(Rewriter, BadUpExpressionFailsToCompile) {
  RuleSet rules = fixture_rules(Phase::kPlanned);
  std::get<RetypeColumn>(rules.migrations[testing::kRetype].changes[0].kind).up = "round(";
  EXPECT_TRUE(std::holds_alternative<std::string>(Rewriter::create(rules)));
}

TEST(Rewriter, CliFunctionUsesOneVersionForAllMigrations) {
  const StaticSchemaCache none;
  const auto r = rewrite_for_cli(fixture_rules(Phase::kPlanned), ClientVersion::kNew, Phase::kContracted, none,
                                 "SELECT id FROM customers");
  EXPECT_EQ(r.status, RewriteStatus::kUnchanged);  // contracted: the new name is physical
  const auto old = rewrite_for_cli(fixture_rules(Phase::kPlanned), ClientVersion::kOld, Phase::kContracted, none,
                                   "SELECT id FROM customer");
  ASSERT_EQ(old.status, RewriteStatus::kRewritten);
  EXPECT_EQ(old.sql, "SELECT id FROM customers AS customer");
}

}  // namespace
}  // namespace pgshim::rules

#include "rules/schema_catalog.h"

namespace pgshim::rules {
namespace {

TEST(SchemaCatalog, BuildsTablesAndSearchPath) {
  const std::vector<CatalogRow> rows = {{"app", "users", "id", "integer"},
                                        {"app", "users", "name", "text"},
                                        {"public", "users", "id", "bigint"}};
  const StaticSchemaCache cache = schema_from_catalog(rows, "\"$user\", app, \"My Schema\"", "alice");
  ASSERT_NE(cache.find_table("app", "users"), nullptr);
  EXPECT_EQ(cache.find_table("app", "users")->columns.size(), 2u);
  EXPECT_EQ(cache.find_table("public", "users")->columns[0].type, "bigint");
  EXPECT_EQ(cache.search_path(), (std::vector<std::string>{"alice", "app", "My Schema"}));
  EXPECT_EQ(cache.resolve_schema("", "users"), "app");
  EXPECT_EQ(cache.resolve_schema("", "nothing"), "alice");
}

}  // namespace
}  // namespace pgshim::rules

namespace pgshim::rules {
namespace {

TEST(Rewriter, MapsErrorPositionsInCharacters) {
  const std::string sql = "UPDATE users SET display_name = 'é' WHERE nope = 2";
  const auto schema = fixture_schema(Phase::kPlanned);
  const auto rewriter = std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(fixture_rules(Phase::kPlanned)));
  const auto r = rewriter->rewrite(sql, ClientProfile::uniform(ClientVersion::kNew), schema);
  ASSERT_EQ(r.status, RewriteStatus::kRewritten);
  // PostgreSQL would point at `nope`: 1-based characters, and 'é' is two bytes.
  const auto chars = [](std::string_view s, std::size_t bytes) {
    int n = 1;
    for (std::size_t i = 0; i < bytes; ++i) n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 ? 1 : 0;
    return n;
  };
  const int in_rewritten = chars(r.sql, r.sql.find("nope"));
  EXPECT_EQ(map_error_position(r, sql, in_rewritten), chars(sql, sql.find("nope")));
  EXPECT_EQ(map_error_position(r, sql, 0), 0);
}

}  // namespace
}  // namespace pgshim::rules

#include "rules/client_profile.h"

namespace pgshim::rules {
namespace {

TEST(ClientProfile, FollowsSelectorsAndDatabaseGlobs) {
  RuleSet rules = fixture_rules(Phase::kPlanned);
  rules.migrations[0].new_selector.application_name = "shop-v2*";
  rules.migrations[1].database_glob = "other";
  StartupParams params;
  params.application_name = "shop-v2.1";
  params.database = "shop";
  const ClientProfile p = profile_for(rules, params);
  EXPECT_TRUE(p.is_active(0));
  EXPECT_FALSE(p.is_active(1));
  EXPECT_EQ(p.version(0), ClientVersion::kNew);
  EXPECT_EQ(p.version(2), ClientVersion::kOld);  // no selector matches: default old
  params.version_option = ClientVersion::kNew;
  EXPECT_EQ(profile_for(rules, params).version(2), ClientVersion::kNew);
}

}  // namespace
}  // namespace pgshim::rules

namespace pgshim::rules {
namespace {

TEST(Rewriter, UpdateOfDroppedColumnsOnlyAssignsAnAssignableColumnToItself) {
  StaticSchemaCache schema;
  schema.add_table("public", "users", {{"id", "integer", false}, {"email", "text"}, {"display_name", "text"}});
  const auto rewriter = std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(fixture_rules(Phase::kContracted)));
  const auto r = rewriter->rewrite("UPDATE users SET legacy_flag = true WHERE id = 1",
                                   ClientProfile::uniform(ClientVersion::kOld), schema);
  ASSERT_EQ(r.status, RewriteStatus::kRewritten) << r.message;
  EXPECT_EQ(r.sql, "UPDATE users SET email = users.email WHERE id = 1");
}

// `excluded` is the row an INSERT proposes to its own target: when that target
// has no rules, `excluded.<name>` is the target's column even if a rule table
// written by the same statement has a column of that name that reads differently.
TEST(Rewriter, ExcludedOfATargetWithoutRulesIsLeftAlone) {
  const auto r = run(Phase::kExpanded, ClientVersion::kNew,
                     "WITH u AS (UPDATE users SET email = 'e' RETURNING id) INSERT INTO audit (id, note) "
                     "SELECT id, 'n' FROM u ON CONFLICT (id) DO UPDATE SET note = excluded.display_name");
  EXPECT_EQ(r.status, RewriteStatus::kUnchanged) << r.sql << r.message;
}

}  // namespace
}  // namespace pgshim::rules
