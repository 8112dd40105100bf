// SQL-level prepared statements across a phase switch (DESIGN.md section 4):
// a statement a client prepared with PREPARE under the old rules is prepared
// again, under the rules in force, before its next EXECUTE, so that the client
// sees what its version must see and never "cached plan must not change result
// type" or a missing column. The proxy's DEALLOCATE and PREPARE are invisible:
// the client gets exactly PostgreSQL's answer to its own statements.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/raw_client.h"
#include "tests/integration/harness/rules_proxy.h"

namespace pgshim::testing {
namespace {

constexpr const char* kDatabase = "sqlprep";

std::string rule(std::string_view phase) {
  return shop_rule("users_rename", "sqlprep", phase, kUsersRenameChanges);
}

// What one statement of a simple Query answered: its value, or its SQLSTATE.
struct Answer {
  std::string column;  // the first column's name, "" for an error or a command
  std::string value;   // the first value, or "error <SQLSTATE>: <message>"
  std::string position;
};

class SqlPrepareTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PgServer::shared().create_database(kDatabase);
    rules_ = new RulesProxy(PgServer::shared(), "sqlprep", rule("planned"));
    proxy_ = &rules_->proxy();
  }
  static void TearDownTestSuite() { delete rules_; }
  // A table as before the migration, and the rules back to planned.
  void SetUp() override {
    admin("DROP TABLE IF EXISTS users; CREATE TABLE users (id int PRIMARY KEY, fullname text, extra text);"
          "INSERT INTO users VALUES (1, 'Ada', 'x')");
    set_phase("planned");
  }

  static void admin(std::string_view sql) { PgServer::shared().exec(sql, kDatabase); }
  // Writes the rule file and has the proxy reload it (the reload also drops its
  // schema cache, so DDL run directly on the server is seen).
  static void set_phase(std::string_view phase) {
    rules_->write(rule(phase));
    rules_->reload();
  }
  // The new columns exist, each with a value of its own so that a read shows
  // which column it came from, and the phase is backfilled (new clients read
  // the new columns).
  static void backfill() {
    admin("ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN nickname text;"
          "UPDATE users SET display_name = 'New', nickname = 'nick'");
    set_phase("backfilled");
  }
  static Conn client(std::string_view app) {
    Conn c(proxy_->dsn(kDatabase, "postgres", fmt::format("sslmode=disable application_name={}", app)));
    EXPECT_TRUE(c.ok()) << c.error();
    return c;
  }
  static void ok(Conn& c, std::string_view sql) {
    Result r = c.exec(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error() << proxy_->log();
  }
  // Every result of a simple Query, in order.
  static std::vector<Answer> answers(Conn& c, std::string_view sql) {
    std::vector<Answer> out;
    EXPECT_EQ(PQsendQuery(c.get(), std::string(sql).c_str()), 1);
    while (PGresult* raw = PQgetResult(c.get())) {
      Result r(raw);
      const char* position = PQresultErrorField(r.get(), PG_DIAG_STATEMENT_POSITION);
      if (!r.ok()) {
        out.push_back({"", fmt::format("error {}: {}", r.sqlstate(), r.error()), position ? position : ""});
      } else if (r.status() == PGRES_TUPLES_OK && r.rows() > 0) {
        out.push_back({r.column_name(0), r.value(0, 0), ""});
      } else {
        out.push_back({"", r.command_status(), ""});
      }
    }
    return out;
  }
  // The one value of a statement that must succeed, with its column name checked.
  static std::string value(Conn& c, std::string_view sql, std::string_view column) {
    Result r = c.exec(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error();
    if (!r.ok() || r.rows() != 1) return "<" + r.error() + ">";
    EXPECT_EQ(r.column_name(0), column) << sql;
    return r.is_null(0, 0) ? "<null>" : r.value(0, 0);
  }

  static RulesProxy* rules_;
  static ProxyProcess* proxy_;
};
RulesProxy* SqlPrepareTest::rules_ = nullptr;
ProxyProcess* SqlPrepareTest::proxy_ = nullptr;

TEST_F(SqlPrepareTest, StatementsFollowEveryPhaseWithoutAnError) {
  Conn v1 = client("shop-v1");
  Conn v2 = client("shop-v2");
  ok(v1, "PREPARE star(int) AS SELECT * FROM users WHERE id = $1");
  ok(v1, "PREPARE name_of AS SELECT fullname FROM users WHERE id = 1");
  ok(v1, "PREPARE rename_to(text, int) AS UPDATE users SET fullname = $1 WHERE id = $2");
  ok(v2, "PREPARE star(int) AS SELECT * FROM users WHERE id = $1");
  ok(v2, "PREPARE name_of AS SELECT display_name FROM users WHERE id = 1");
  ok(v1, "PREPARE for_explain AS SELECT fullname FROM users WHERE id = 1");
  ok(v1, "PREPARE for_copy AS SELECT fullname FROM users WHERE id = 1");
  EXPECT_EQ(v1.exec("EXECUTE star(1)").columns(), 3);
  EXPECT_EQ(v2.exec("EXECUTE star(1)").columns(), 4);

  backfill();
  // A plan made before would fail: `*` has two more columns now.
  Result old_star = v1.exec("EXECUTE star(1)");
  ASSERT_TRUE(old_star.ok()) << old_star.error();
  ASSERT_EQ(old_star.columns(), 3);
  EXPECT_EQ(old_star.column_name(1), "fullname");
  Result new_star = v2.exec("EXECUTE star(1)");
  ASSERT_TRUE(new_star.ok()) << new_star.error();
  ASSERT_EQ(new_star.columns(), 4);
  EXPECT_EQ(new_star.column_name(1), "display_name");
  EXPECT_EQ(new_star.value(0, 1), "New");
  // An old write reaches both columns.
  Result renamed = v1.exec("EXECUTE rename_to('Ada L', 1)");
  ASSERT_TRUE(renamed.ok()) << renamed.error();
  EXPECT_EQ(renamed.command_tuples(), "1");
  Conn direct(PgServer::shared().dsn(kDatabase));
  EXPECT_EQ(direct.scalar("SELECT display_name FROM users WHERE id = 1"), "Ada L");
  EXPECT_EQ(value(v2, "EXECUTE name_of", "display_name"), "Ada L");

  set_phase("contracted");
  admin("ALTER TABLE users DROP COLUMN fullname");
  set_phase("contracted");  // the schema the proxy reads has lost fullname
  // The old client still reads fullname, from display_name.
  EXPECT_EQ(value(v1, "EXECUTE name_of", "fullname"), "Ada L");
  ASSERT_TRUE(v1.exec("EXECUTE rename_to('Ada M', 1)").ok());
  EXPECT_EQ(value(v2, "EXECUTE name_of", "display_name"), "Ada M");
  Result contracted_star = v1.exec("EXECUTE star(1)");
  ASSERT_TRUE(contracted_star.ok()) << contracted_star.error();
  EXPECT_EQ(contracted_star.columns(), 3);
  EXPECT_GE(PQfnumber(contracted_star.get(), "fullname"), 0);
  EXPECT_EQ(v2.exec("EXECUTE star(1)").columns(), 4);
  // EXPLAIN EXECUTE and CREATE TABLE AS EXECUTE prepare it again too.
  Result explained = v1.exec("EXPLAIN EXECUTE for_explain");
  ASSERT_TRUE(explained.ok()) << explained.error();
  ok(v1, "CREATE TEMP TABLE copied AS EXECUTE for_copy");
  EXPECT_EQ(value(v1, "SELECT * FROM copied", "fullname"), "Ada M");
}

TEST_F(SqlPrepareTest, EachStatementOfAQueryRunsOnceAndInOrder) {
  Conn v2 = client("shop-v2");
  ok(v2, "PREPARE a(int) AS SELECT display_name FROM users WHERE id = $1; "
         "PREPARE b AS SELECT nickname FROM users WHERE id = 1");
  backfill();
  // Exactly the results of the client's five statements, none of the proxy's.
  const std::vector<Answer> got =
      answers(v2, "SELECT 'before' AS x; EXECUTE a(1); EXECUTE b; EXECUTE a(1); SELECT 'after' AS x");
  ASSERT_EQ(got.size(), 5u) << proxy_->log();
  EXPECT_EQ(got[0].value, "before");
  EXPECT_EQ(got[1].column, "display_name");
  EXPECT_EQ(got[1].value, "New");
  EXPECT_EQ(got[2].column, "nickname");
  EXPECT_EQ(got[2].value, "nick");
  EXPECT_EQ(got[3].value, "New");
  EXPECT_EQ(got[4].value, "after");
  // The statement a Query deallocates and prepares again is the client's, not the old one.
  set_phase("planned");
  const std::vector<Answer> own =
      answers(v2, "DEALLOCATE a; PREPARE a AS SELECT 'own'::text AS display_name; EXECUTE a; EXECUTE b");
  ASSERT_EQ(own.size(), 4u);
  EXPECT_EQ(own[0].value, "DEALLOCATE");
  EXPECT_EQ(own[1].value, "PREPARE");
  EXPECT_EQ(own[2].value, "own");
  EXPECT_EQ(own[3].value, "none");  // planned again: nickname is the rule's default
}

TEST_F(SqlPrepareTest, DeallocateAndDiscardAllAreFollowed) {
  Conn v2 = client("shop-v2");
  ok(v2, "PREPARE kept AS SELECT display_name FROM users WHERE id = 1");
  ok(v2, "PREPARE gone AS SELECT display_name FROM users WHERE id = 1");
  ok(v2, "DEALLOCATE gone");
  // DISCARD ALL cannot run in a transaction: the statements stay.
  ok(v2, "BEGIN");
  EXPECT_EQ(v2.exec("DISCARD ALL").sqlstate(), "25001");
  ok(v2, "ROLLBACK");
  backfill();
  EXPECT_EQ(v2.exec("EXECUTE gone").sqlstate(), "26000");
  EXPECT_EQ(value(v2, "EXECUTE kept", "display_name"), "New");
  // Deallocated and prepared again by the client before a switch: its new text is the one used.
  ok(v2, "DEALLOCATE ALL");
  ok(v2, "PREPARE kept AS SELECT nickname AS display_name FROM users WHERE id = 1");
  set_phase("planned");
  EXPECT_EQ(value(v2, "EXECUTE kept", "display_name"), "none");
  ok(v2, "DISCARD ALL");
  set_phase("backfilled");
  EXPECT_EQ(v2.exec("EXECUTE kept").sqlstate(), "26000");
  ok(v2, "PREPARE kept AS SELECT display_name FROM users WHERE id = 1");
  EXPECT_EQ(value(v2, "EXECUTE kept", "display_name"), "New");
}

TEST_F(SqlPrepareTest, InATransactionTheRulesChangeOnlyAtItsBoundaries) {
  // The columns exist already, so that no DDL waits for the client's transaction.
  admin("ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN nickname text;"
        "UPDATE users SET display_name = 'New'");
  Conn v2 = client("shop-v2");
  ok(v2, "PREPARE n(int) AS SELECT display_name FROM users WHERE id = $1");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "Ada");
  ok(v2, "BEGIN");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "Ada");
  set_phase("backfilled");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "Ada");  // still the transaction's rules
  ok(v2, "COMMIT");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "New");
  // The first EXECUTE after the boundary, inside the next transaction.
  set_phase("planned");
  ok(v2, "BEGIN");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "Ada");
  ok(v2, "COMMIT");
  // In a failed transaction the client gets PostgreSQL's error, and the statement
  // is prepared again once the transaction is over.
  set_phase("backfilled");
  ok(v2, "BEGIN");
  EXPECT_EQ(v2.exec("SELECT 1/0").sqlstate(), "22012");
  EXPECT_EQ(v2.exec("EXECUTE n(1)").sqlstate(), "25P02");
  ok(v2, "ROLLBACK");
  EXPECT_EQ(value(v2, "EXECUTE n(1)", "display_name"), "New");
}

TEST_F(SqlPrepareTest, APreparationThatNowFailsAnswersWithTheServersErrorInStep) {
  Conn v2 = client("shop-v2");
  ok(v2, "PREPARE p AS SELECT display_name, extra FROM users WHERE id = 1");
  admin("ALTER TABLE users DROP COLUMN extra");
  backfill();
  const std::string sql = "SELECT 'before' AS x; EXECUTE p; SELECT 'after' AS x";
  const std::vector<Answer> got = answers(v2, sql);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, "before");
  EXPECT_NE(got[1].value.find("error 42703"), std::string::npos) << got[1].value;
  EXPECT_NE(got[1].value.find("extra"), std::string::npos) << got[1].value;
  // The position points into the client's text: its EXECUTE.
  EXPECT_EQ(got[1].position, std::to_string(sql.find("EXECUTE") + 1));
  EXPECT_EQ(value(v2, "SELECT 'usable' AS x", "x"), "usable");
  ok(v2, "BEGIN");
  EXPECT_EQ(v2.exec("EXECUTE p").sqlstate(), "42703");
  EXPECT_EQ(v2.exec("SELECT 1").sqlstate(), "25P02");
  ok(v2, "ROLLBACK");
  // Once the column is back (DDL through the proxy: its schema cache follows), the
  // statement works, under the rules in force.
  ok(v2, "ALTER TABLE users ADD COLUMN extra text");
  Result r = v2.exec("EXECUTE p");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value(0, 0), "New");
  // After a failed preparation the client's DEALLOCATE still succeeds, as without the proxy.
  ok(v2, "ALTER TABLE users DROP COLUMN extra");
  EXPECT_EQ(v2.exec("EXECUTE p").sqlstate(), "42703");
  const std::vector<Answer> deallocated = answers(v2, "DEALLOCATE p; SELECT 'after' AS x");
  ASSERT_EQ(deallocated.size(), 2u) << deallocated[0].value;
  EXPECT_EQ(deallocated[0].value, "DEALLOCATE");
  EXPECT_EQ(deallocated[1].value, "after");
  EXPECT_EQ(v2.exec("EXECUTE p").sqlstate(), "26000");
}

TEST_F(SqlPrepareTest, ARefusedPreparationIsAnsweredInStep) {
  Conn v2 = client("shop-v2");
  ok(v2, "PREPARE p AS SELECT display_name FROM users WHERE id = 1");
  // Expanded without its DDL: the rule contradicts the schema, statements touching it are refused.
  set_phase("expanded");
  const std::vector<Answer> got = answers(v2, "SELECT 'before' AS x; EXECUTE p; SELECT 'after' AS x");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].value, "before");
  EXPECT_NE(got[1].value.find("error 0A000"), std::string::npos) << got[1].value;
  EXPECT_NE(got[1].value.find("does not match the database"), std::string::npos) << got[1].value;
  EXPECT_EQ(value(v2, "SELECT 'usable' AS x", "x"), "usable");
  backfill();
  EXPECT_EQ(value(v2, "EXECUTE p", "display_name"), "New");
}

TEST_F(SqlPrepareTest, ExtendedProtocolAndStatementsUsedAcrossProtocols) {
  Conn v2 = client("shop-v2");
  // SQL text sent with Parse/Bind/Execute (as psycopg 3 and JDBC do).
  ASSERT_TRUE(v2.exec_params("PREPARE by_text(int) AS SELECT display_name FROM users WHERE id = $1", {}).ok());
  ASSERT_TRUE(v2.exec_params("PREPARE by_bind(int) AS SELECT display_name FROM users WHERE id = $1", {}).ok());
  ASSERT_TRUE(v2.exec("PREPARE by_runner(int) AS SELECT display_name FROM users WHERE id = $1").ok());
  // A named statement whose text EXECUTEs another, bound again later.
  Result runner(PQprepare(v2.get(), "runner", "EXECUTE by_runner(1)", 0, nullptr));
  ASSERT_TRUE(runner.ok()) << runner.error();
  // Statements made by Parse, used with SQL EXECUTE: without and with parameter types.
  Result untyped(PQprepare(v2.get(), "untyped", "SELECT display_name FROM users WHERE id = $1", 0, nullptr));
  const Oid int4[] = {23};
  Result typed(PQprepare(v2.get(), "typed", "SELECT display_name FROM users WHERE id = $1", 1, int4));
  ASSERT_TRUE(untyped.ok() && typed.ok()) << untyped.error() << typed.error();
  EXPECT_EQ(v2.exec_params("EXECUTE by_text(1)", {}).value(), "Ada");

  backfill();
  Result by_text = v2.exec_params("EXECUTE by_text(1)", {});
  ASSERT_TRUE(by_text.ok()) << by_text.error();
  EXPECT_EQ(by_text.value(), "New");
  const char* one[] = {"1"};
  Result by_bind(PQexecPrepared(v2.get(), "by_bind", 1, one, nullptr, nullptr, 0));
  ASSERT_TRUE(by_bind.ok()) << by_bind.error();
  EXPECT_EQ(by_bind.value(), "New");
  Result by_runner(PQexecPrepared(v2.get(), "runner", 0, nullptr, nullptr, nullptr, 0));
  ASSERT_TRUE(by_runner.ok()) << by_runner.error();
  EXPECT_EQ(by_runner.value(), "New");
  EXPECT_EQ(value(v2, "EXECUTE untyped(1)", "display_name"), "New");
  Result refused = v2.exec("EXECUTE typed(1)");
  EXPECT_EQ(refused.sqlstate(), "0A000");
  EXPECT_NE(refused.error().find("parameter type OIDs"), std::string::npos) << refused.error();
  // Through Bind it is prepared again as usual.
  Result typed_bind(PQexecPrepared(v2.get(), "typed", 1, one, nullptr, nullptr, 0));
  ASSERT_TRUE(typed_bind.ok()) << typed_bind.error();
  EXPECT_EQ(typed_bind.value(), "New");
}

// The first column of a DataRow body, as text.
std::string first_value(const std::string& body) {
  if (body.size() < 6) return "?";
  const auto* u = reinterpret_cast<const unsigned char*>(body.data() + 2);
  const auto length = static_cast<std::int32_t>((u[0] << 24) | (u[1] << 16) | (u[2] << 8) | u[3]);
  return length < 0 ? "<null>" : body.substr(6, static_cast<std::size_t>(length));
}

// Reads messages up to ReadyForQuery; returns their types, CommandComplete with
// its tag and DataRow with its first value.
std::vector<std::string> read_until_ready(RawClient& raw) {
  std::vector<std::string> seen;
  for (;;) {
    auto m = raw.read();
    if (!m) {
      seen.push_back("<nothing>");
      return seen;
    }
    if (m->type == 'C') {
      seen.push_back("C " + m->body.substr(0, m->body.find('\0')));
    } else if (m->type == 'D') {
      seen.push_back("D " + first_value(m->body));
    } else if (m->type == 'E') {
      seen.push_back("E " + m->error_field('C') + " " + m->error_field('M'));
    } else {
      seen.push_back(std::string(1, m->type));
    }
    if (m->type == 'Z') return seen;
  }
}

std::string zero_terminated(std::string_view s) { return std::string(s) + '\0'; }

TEST_F(SqlPrepareTest, TheClientSeesExactlyPostgresMessagesForItsOwnStatements) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.send(RawClient::startup_packet(
      {{"user", "postgres"}, {"database", kDatabase}, {"application_name", "shop-v2-raw"}})));
  ASSERT_EQ(read_until_ready(raw).back(), "Z");
  const auto query = [&](std::string_view sql) {
    raw.send(RawClient::message('Q', zero_terminated(sql)));
    return read_until_ready(raw);
  };
  using Seen = std::vector<std::string>;
  EXPECT_EQ(query("PREPARE p(int) AS SELECT display_name FROM users WHERE id = $1; "
                  "PREPARE q(int) AS SELECT display_name FROM users WHERE id = $1"),
            (Seen{"C PREPARE", "C PREPARE", "Z"}));
  backfill();
  EXPECT_EQ(query("EXECUTE p(1); SELECT 1"), (Seen{"T", "D New", "C SELECT 1", "T", "D 1", "C SELECT 1", "Z"}));
  // Bind of a statement PREPAREd with types: the proxy's own PREPARE runs ahead, unseen.
  const std::string bind = RawClient::message(
      'B', zero_terminated("") + zero_terminated("q") + std::string("\0\0\0\1\0\0\0\1" "1\0\0", 11));
  const std::string describe = RawClient::message('D', "P" + zero_terminated(""));
  const std::string execute = RawClient::message('E', zero_terminated("") + RawClient::u32(0));
  const std::string sync = RawClient::message('S', "");
  raw.send(bind + describe + execute + sync);
  EXPECT_EQ(read_until_ready(raw), (Seen{"2", "T", "D New", "C SELECT 1", "Z"}));
  // A failed preparation ends the client's batch with the server's error, and the next one works.
  admin("ALTER TABLE users DROP COLUMN id");
  set_phase("planned");
  raw.send(bind + describe + execute + sync);
  const Seen failed = read_until_ready(raw);
  ASSERT_EQ(failed.size(), 2u) << proxy_->log();
  EXPECT_EQ(failed[0].substr(0, 7), "E 42703") << failed[0];
  EXPECT_EQ(failed[1], "Z");
  EXPECT_EQ(query("SELECT 1"), (Seen{"T", "D 1", "C SELECT 1", "Z"}));
  // Prepared again at the next use, once it can be (DDL through the proxy: its schema cache follows).
  EXPECT_EQ(query("ALTER TABLE users ADD COLUMN id int"), (Seen{"C ALTER TABLE", "Z"}));
  EXPECT_EQ(query("UPDATE users SET id = 1"), (Seen{"C UPDATE 1", "Z"}));
  raw.send(bind + describe + execute + sync);
  EXPECT_EQ(read_until_ready(raw), (Seen{"2", "T", "D Ada", "C SELECT 1", "Z"}));  // planned: fullname
}

}  // namespace
}  // namespace pgshim::testing
