// Migrations live in the proxy: per-client versions decided at startup, Query and
// Parse rewritten on the wire, refused statements answered in order with the
// protocol kept in step, and rule reloads that take effect at transaction
// boundaries only.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/rules_proxy.h"

namespace pgshim::testing {
namespace {

std::string rename_rule(std::string_view phase) {
  return shop_rule("users_rename", "migrate*", phase, kUsersRenameChanges);
}

class MigrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& pg = PgServer::shared();
    pg.create_database("migrate");
    pg.exec("CREATE TABLE users (id int PRIMARY KEY, fullname text)", "migrate");
    rules_ = new RulesProxy(pg, "migrate", rename_rule("planned"));
    proxy_ = &rules_->proxy();
  }
  static void TearDownTestSuite() { delete rules_; }
  void SetUp() override {
    PgServer::shared().exec("TRUNCATE users; INSERT INTO users (id, fullname) VALUES (1, 'Ada')", "migrate");
  }
  // Asks the proxy to reload and gives it time to do so.
  static void reload() { rules_->reload(); }
  // Expands the table (both new columns) and switches the rules to expanded.
  static void expand() {
    PgServer::shared().exec("ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN nickname text",
                            "migrate");
    write_rule("expanded");
    reload();
  }
  // Puts the table and the rules back to planned for the other tests.
  static void back_to_planned() {
    PgServer::shared().exec("ALTER TABLE users DROP COLUMN display_name, DROP COLUMN nickname", "migrate");
    write_rule("planned");
    reload();
  }
  static void write_rule(std::string_view phase) { rules_->write(rename_rule(phase)); }
  static Conn client(std::string_view app, std::string_view extra = "") {
    Conn c(proxy_->dsn("migrate", "postgres", fmt::format("sslmode=disable application_name={} {}", app, extra)));
    EXPECT_TRUE(c.ok()) << c.error() << proxy_->log();
    return c;
  }
  static RulesProxy* rules_;
  static ProxyProcess* proxy_;
};
RulesProxy* MigrationTest::rules_ = nullptr;
ProxyProcess* MigrationTest::proxy_ = nullptr;

TEST_F(MigrationTest, VersionsBySelectorOptionAndDefault) {
  Conn v1 = client("shop-v1.4");
  Conn v2 = client("shop-v2.0");
  Conn unknown = client("report-job");
  Conn forced = client("report-job", "options='-c pgshim.version=new'");
  EXPECT_EQ(v1.scalar("SELECT fullname FROM users WHERE id = 1"), "Ada");
  EXPECT_EQ(v2.scalar("SELECT display_name FROM users WHERE id = 1"), "Ada");
  EXPECT_EQ(unknown.scalar("SELECT fullname FROM users WHERE id = 1"), "Ada");
  EXPECT_EQ(forced.scalar("SELECT display_name FROM users WHERE id = 1"), "Ada");
  // Each version sees only its own names.
  EXPECT_EQ(v1.exec("SELECT display_name FROM users").sqlstate(), "42703");
  EXPECT_EQ(v2.exec("SELECT fullname FROM users").sqlstate(), "42703");
}

TEST_F(MigrationTest, BadVersionOptionIsRefused) {
  Conn c(proxy_->dsn("migrate", "postgres", "sslmode=disable options='-c pgshim.version=newest'"));
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("pgshim.version"), std::string::npos) << c.error();
}

TEST_F(MigrationTest, NewClientReadsAndWritesThroughOldColumnWhilePlanned) {
  Conn v2 = client("shop-v2");
  Result star = v2.exec("SELECT * FROM users ORDER BY id");
  ASSERT_TRUE(star.ok()) << star.error();
  ASSERT_EQ(star.columns(), 3);
  EXPECT_EQ(star.column_name(1), "display_name");
  EXPECT_EQ(star.column_name(2), "nickname");
  EXPECT_EQ(star.value(0, 2), "none");
  Result update = v2.exec_params("UPDATE users SET display_name = $1 WHERE id = $2", {"Ada L", "1"});
  ASSERT_TRUE(update.ok()) << update.error();
  EXPECT_EQ(update.command_tuples(), "1");
  Conn direct(PgServer::shared().dsn("migrate"));
  EXPECT_EQ(direct.scalar("SELECT fullname FROM users WHERE id = 1"), "Ada L");
}

TEST_F(MigrationTest, PreparedStatementsAreRewritten) {
  Conn v2 = client("shop-v2");
  Result prepared(PQprepare(v2.get(), "by_id", "SELECT display_name FROM users WHERE id = $1", 0, nullptr));
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  const char* values[] = {"1"};
  Result r(PQexecPrepared(v2.get(), "by_id", 1, values, nullptr, nullptr, 0));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.column_name(0), "display_name");
  EXPECT_EQ(r.value(), "Ada");
  Result sql_prepare = v2.exec("PREPARE p2 AS SELECT display_name FROM users WHERE id = 1");
  ASSERT_TRUE(sql_prepare.ok()) << sql_prepare.error();
  EXPECT_EQ(v2.scalar("EXECUTE p2"), "Ada");
}

TEST_F(MigrationTest, RefusedStatementGetsItsErrorInOrder) {
  Conn v2 = client("shop-v2");
  // nickname does not exist yet (planned): a write to it is refused, not guessed.
  ASSERT_EQ(PQsendQuery(v2.get(), "SELECT 1"), 1);
  std::vector<std::string> seen;
  while (PGresult* r = PQgetResult(v2.get())) {
    Result owned(r);
    seen.push_back(owned.ok() ? owned.value() : owned.sqlstate());
  }
  Result refused = v2.exec("UPDATE users SET nickname = 'x' WHERE id = 1");
  EXPECT_EQ(refused.sqlstate(), "0A000") << refused.error();
  EXPECT_NE(refused.error().find("not yet created"), std::string::npos) << refused.error();
  EXPECT_EQ(v2.scalar("SELECT 'usable'"), "usable");
  // In a transaction, a refusal aborts it exactly as a server error would.
  ASSERT_TRUE(v2.exec("BEGIN").ok());
  EXPECT_EQ(v2.exec("INSERT INTO users (id, display_name, nickname) VALUES (5, 'x', 'y')").sqlstate(), "0A000");
  EXPECT_EQ(v2.exec("SELECT 1").sqlstate(), "25P02");
  ASSERT_TRUE(v2.exec("ROLLBACK").ok());
}

TEST_F(MigrationTest, ErrorPositionMapsBackToClientText) {
  Conn v2 = client("shop-v2");
  const std::string sql = "SELECT * FROM users WHERE no_such_col = 1";
  for (bool extended : {false, true}) {
    Result r = extended ? v2.exec_params(sql, {}) : v2.exec(sql);
    EXPECT_EQ(r.sqlstate(), "42703") << r.error();
    const char* position = PQresultErrorField(r.get(), PG_DIAG_STATEMENT_POSITION);
    ASSERT_NE(position, nullptr);
    EXPECT_EQ(std::string(position), std::to_string(sql.find("no_such_col") + 1)) << "extended=" << extended;
  }
}

TEST_F(MigrationTest, RefusedParseInPipelineKeepsProtocolInStep) {
  Conn v2 = client("shop-v2");
  ASSERT_EQ(PQenterPipelineMode(v2.get()), 1);
  ASSERT_EQ(PQsendQueryParams(v2.get(), "SELECT display_name FROM users WHERE id = 1", 0, nullptr, nullptr,
                              nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(v2.get(), "UPDATE users SET nickname = 'x'", 0, nullptr, nullptr, nullptr,
                              nullptr, 0), 1);
  ASSERT_EQ(PQsendQueryParams(v2.get(), "SELECT 'skipped'", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(v2.get()), 1);
  ASSERT_EQ(PQsendQueryParams(v2.get(), "SELECT 'after sync'", 0, nullptr, nullptr, nullptr, nullptr, 0), 1);
  ASSERT_EQ(PQpipelineSync(v2.get()), 1);
  Result first(PQgetResult(v2.get()));
  EXPECT_EQ(first.value(), "Ada");
  EXPECT_EQ(PQgetResult(v2.get()), nullptr);
  Result refused(PQgetResult(v2.get()));
  EXPECT_EQ(refused.sqlstate(), "0A000") << refused.error();
  EXPECT_EQ(PQgetResult(v2.get()), nullptr);
  Result skipped(PQgetResult(v2.get()));
  EXPECT_EQ(skipped.status(), PGRES_PIPELINE_ABORTED);
  EXPECT_EQ(PQgetResult(v2.get()), nullptr);
  Result sync1(PQgetResult(v2.get()));
  EXPECT_EQ(sync1.status(), PGRES_PIPELINE_SYNC);
  Result after(PQgetResult(v2.get()));
  EXPECT_EQ(after.value(), "after sync");
  EXPECT_EQ(PQgetResult(v2.get()), nullptr);
  Result sync2(PQgetResult(v2.get()));
  EXPECT_EQ(sync2.status(), PGRES_PIPELINE_SYNC);
}

TEST_F(MigrationTest, ReloadAppliesOnlyAtTransactionBoundary) {
  Conn v1 = client("shop-v1");
  EXPECT_EQ(v1.scalar("SELECT fullname FROM users WHERE id = 1"), "Ada");
  // The transaction holds no lock on users, so the DDL below does not wait for it.
  ASSERT_TRUE(v1.exec("BEGIN").ok());
  EXPECT_EQ(v1.scalar("SELECT 1"), "1");
  // Expand the schema and switch the phase while the old client's transaction is open.
  expand();
  // Still the planned rules inside the transaction: an old write touches fullname only.
  ASSERT_TRUE(v1.exec("UPDATE users SET fullname = 'in tx' WHERE id = 1").ok());
  ASSERT_TRUE(v1.exec("COMMIT").ok());
  Conn direct(PgServer::shared().dsn("migrate"));
  EXPECT_EQ(direct.scalar("SELECT coalesce(display_name, '<null>') FROM users WHERE id = 1"), "<null>");
  // After COMMIT the expanded rules apply: old writes reach both columns.
  ASSERT_TRUE(v1.exec("UPDATE users SET fullname = 'after' WHERE id = 1").ok());
  EXPECT_EQ(direct.scalar("SELECT display_name FROM users WHERE id = 1"), "after");
  // An invalid file leaves the expanded rules in force.
  rules_->write("migration: users_rename\nphase: sideways\n");
  reload();
  ASSERT_TRUE(v1.exec("UPDATE users SET fullname = 'still expanded' WHERE id = 1").ok());
  EXPECT_EQ(direct.scalar("SELECT display_name FROM users WHERE id = 1"), "still expanded");
  EXPECT_NE(proxy_->log().find("rules not reloaded"), std::string::npos);
  // Put things back for the other tests.
  back_to_planned();
}

TEST_F(MigrationTest, ATransactionStartedRightAfterAReloadRewritesWithTheSchema) {
  Conn v2 = client("shop-v2");
  EXPECT_EQ(v2.exec("SELECT * FROM users").columns(), 3);
  reload();  // the schema cache is read again at the next boundary: BEGIN
  ASSERT_TRUE(v2.exec("BEGIN").ok());
  Result star = v2.exec("SELECT * FROM users");
  ASSERT_TRUE(star.ok()) << star.error();
  EXPECT_EQ(star.columns(), 3);
  ASSERT_TRUE(v2.exec("COMMIT").ok());
}

TEST_F(MigrationTest, PreparedStatementsSurviveAPhaseSwitch) {
  Conn v1 = client("shop-v1");
  Conn v2 = client("shop-v2");
  const char* sql = "SELECT * FROM users WHERE id = $1";
  Result p1(PQprepare(v1.get(), "star", sql, 0, nullptr));
  Result p2(PQprepare(v2.get(), "star", sql, 0, nullptr));
  ASSERT_TRUE(p1.ok() && p2.ok()) << p1.error() << p2.error();
  const char* id[] = {"1"};
  const auto run = [&](Conn& c) { return Result(PQexecPrepared(c.get(), "star", 1, id, nullptr, nullptr, 0)); };
  ASSERT_EQ(run(v1).columns(), 2);
  ASSERT_EQ(run(v2).columns(), 3);
  // Expand: `*` on the table now has four columns. A plan made before would fail
  // with "cached plan must not change result type"; pgshim prepares it again.
  expand();
  for (int i = 0; i < 2; ++i) {
    Result old_result = run(v1);
    ASSERT_TRUE(old_result.ok()) << old_result.error();
    EXPECT_EQ(old_result.columns(), 2);
    EXPECT_EQ(old_result.column_name(1), "fullname");
    Result new_result = run(v2);
    ASSERT_TRUE(new_result.ok()) << new_result.error();
    EXPECT_EQ(new_result.columns(), 3);
    EXPECT_EQ(new_result.value(0, 1), "Ada");
  }
  back_to_planned();
}

}  // namespace
}  // namespace pgshim::testing
