// `pgshim backfill` against a real PostgreSQL: a 200,000-row table converted
// while old and new clients write through pgshim (0 lost updates), a run stopped
// by SIGINT and resumed (each row converted once), and the failures that must
// leave nothing half done: no usable key, an up expression that fails on a row,
// a row locked by another transaction (lock timeout, retry, success).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/rules_proxy.h"

namespace pgshim::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kDatabase = "backfill";

std::string rule(std::string_view name, std::string_view phase, std::string_view change) {
  return shop_rule(name, "backfill*", phase, change);
}

std::string retype(std::string_view table, std::string_view from, std::string_view to) {
  return fmt::format(R"(  - retype_column:
      table: {0}
      from: {{ column: {1}, type: text }}
      to: {{ column: {2}, type: bigint }}
      up: "round({1}::numeric * 100)::bigint"
      down: "({2} / 100.0)::numeric(12,2)::text"
)",
                     table, from, to);
}

std::string rename(std::string_view table, std::string_view from, std::string_view to) {
  return fmt::format("  - rename_column: {{ table: {}, from: {}, to: {} }}\n", table, from, to);
}

// 1234 cents -> "12.34", as (1234 / 100.0)::numeric(12,2)::text prints it.
std::string cents_text(long long cents) { return fmt::format("{}.{:02}", cents / 100, cents % 100); }

struct RunResult {
  int exit_code = -1;
  std::string output;
};

class BackfillTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& pg = PgServer::shared();
    pg.create_database(kDatabase);
    dir_ = new std::string(std::filesystem::temp_directory_path() / fmt::format("pgshim-backfill-{}", getpid()));
    std::filesystem::create_directories(*dir_ + "/rules");
    write("accounts", rule("accounts_cents", "expanded", retype("accounts", "balance", "balance_cents")));
    write("ledger", rule("ledger_cents", "expanded", retype("ledger", "amount", "amount_cents")));
    write("nokey", rule("nokey_rename", "expanded", rename("nokey_ok", "v", "w") + rename("nokey_bad", "v", "w")));
    write("bad", rule("bad_up", "expanded",
                      "  - retype_column:\n      table: bad\n      from: { column: raw, type: text }\n"
                      "      to: { column: num, type: numeric }\n      up: \"raw::numeric\"\n"
                      "      down: \"num::text\"\n"));
    write("locked", rule("locked_rename", "expanded", rename("locked", "a", "b")));
    write("planned", rule("still_planned", "planned", rename("later", "x", "y")));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static void write(std::string_view file, const std::string& text) {
    std::ofstream(fmt::format("{}/rules/{}.yaml", *dir_, file)) << text;
  }
  static std::string rules_dir() { return *dir_ + "/rules"; }
  static void exec(std::string_view sql) { PgServer::shared().exec(sql, kDatabase); }
  static Conn direct() {
    Conn c(PgServer::shared().dsn(kDatabase));
    EXPECT_TRUE(c.ok()) << c.error();
    return c;
  }
  static std::vector<std::string> backfill_argv(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {PGSHIM_BINARY, "backfill", "--rules", rules_dir(), "--dsn",
                                     PgServer::shared().dsn(kDatabase)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  static std::string log_path(std::string_view name) { return fmt::format("{}/{}.log", *dir_, name); }

  static RunResult backfill(std::string_view name, const std::vector<std::string>& extra) {
    const std::string log = log_path(name);
    std::filesystem::remove(log);
    RunResult r;
    r.exit_code = run(backfill_argv(extra), log);
    r.output = read_file(log);
    return r;
  }
  // Waits (bounded) for a spawned backfill; its exit code, or -1 on timeout.
  static int wait_exit(pid_t pid, std::chrono::seconds timeout) {
    const auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      int status = 0;
      const pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      std::this_thread::sleep_for(20ms);
    }
    stop_process(pid, SIGKILL, 5s);
    return -1;
  }
  static long long count(Conn& c, std::string_view sql) { return std::stoll(c.scalar(sql)); }

  static std::string* dir_;
};
std::string* BackfillTest::dir_ = nullptr;

// A writer through pgshim: it owns the ids ≡ n (mod 4) and the ids it inserts, and
// logs the last value (in cents) it wrote to each.
struct Writer {
  int n = 0;
  bool new_client = false;
  std::map<long long, long long> log;
  long long writes = 0;
  std::vector<std::string> errors;

  void run(const std::string& dsn, const std::atomic<bool>& stop, std::chrono::seconds limit) {
    Conn c(dsn);
    if (!c.ok()) {
      errors.push_back(c.error());
      return;
    }
    std::mt19937_64 random(1000 + n);
    long long next_insert = 1'000'000LL * (n + 1);
    const auto end = Clock::now() + limit;
    while (!stop && Clock::now() < end && errors.size() < 10) {
      const long long cents = static_cast<long long>(random() % 100'000'000);
      const bool insert = random() % 5 == 0;
      const long long id = insert ? next_insert++ : static_cast<long long>(random() % 50'000) * 4 + n + 1;
      const std::string value = new_client ? std::to_string(cents) : cents_text(cents);
      const std::string column = new_client ? "balance_cents" : "balance";
      const std::string sql = insert ? fmt::format("INSERT INTO accounts (id, {}) VALUES ($1, $2)", column)
                                     : fmt::format("UPDATE accounts SET {} = $2 WHERE id = $1", column);
      Result r = c.exec_params(sql, {std::to_string(id), value});
      if (!r.ok() || r.command_tuples() != "1") {
        errors.push_back(sql + ": " + r.error() + " rows " + r.command_tuples());
        continue;
      }
      log[id] = cents;
      ++writes;
    }
  }
};

TEST_F(BackfillTest, ConcurrentOldAndNewWritersLoseNothing) {
  exec("CREATE TABLE accounts (id bigint PRIMARY KEY, balance text, balance_cents bigint)");
  exec("INSERT INTO accounts (id, balance) SELECT i, ((i * 7919) % 100000000 / 100.0)::numeric(12,2)::text "
       "FROM generate_series(1, 200000) i");
  exec("ANALYZE accounts");
  ProxyProcess proxy(PgServer::shared(), {.extra_args = {"--upstream-tls", "disable"},
                                          .rules_dir = rules_dir()});
  std::atomic<bool> stop{false};
  std::vector<Writer> writers(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    writers[i].n = i;
    writers[i].new_client = i % 2 == 1;
    const std::string dsn = proxy.dsn(kDatabase, "postgres",
                                      fmt::format("sslmode=disable application_name={}", i % 2 ? "shop-v2" : "shop-v1"));
    threads.emplace_back([&writers, i, dsn, &stop] { writers[i].run(dsn, stop, std::chrono::seconds(600)); });
  }
  std::this_thread::sleep_for(300ms);
  long long before = 0;
  for (const auto& w : writers) before += w.writes;  // racy read, only a rough figure
  const pid_t pid = spawn(backfill_argv({"--migration", "accounts_cents", "--progress-every-ms", "1000"}),
                          log_path("concurrent"));
  const int code = wait_exit(pid, 600s);
  long long during = -before;
  for (const auto& w : writers) during += w.writes;
  std::this_thread::sleep_for(200ms);  // writes after the end go through the dual write
  stop = true;
  for (auto& t : threads) t.join();
  const std::string output = read_file(log_path("concurrent"));
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("verified: 0 rows"), std::string::npos) << output;
  EXPECT_NE(output.find("--migration accounts_cents --set backfilled"), std::string::npos) << output;
  EXPECT_GT(during, 100) << "the writers must run during the whole backfill";
  for (const auto& w : writers) EXPECT_TRUE(w.errors.empty()) << w.errors.front() << proxy.log();

  // The table against the writers' logs, and every row in sync both ways.
  Conn c = direct();
  Result rows = c.exec("SELECT id, balance, balance_cents FROM accounts ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.error();
  std::map<long long, std::pair<std::string, std::string>> table;
  for (int i = 0; i < rows.rows(); ++i) table[std::stoll(rows.value(i, 0))] = {rows.value(i, 1), rows.value(i, 2)};
  long long logged = 0, lost = 0, inserted = 0;
  for (const auto& w : writers) {
    logged += static_cast<long long>(w.log.size());
    for (const auto& [id, cents] : w.log) {
      if (id > 200000) ++inserted;
      auto it = table.find(id);
      if (it == table.end() || it->second.first != cents_text(cents) || it->second.second != std::to_string(cents)) {
        if (++lost <= 5) ADD_FAILURE() << "id " << id << ": wrote " << cents << ", table has "
                                       << (it == table.end() ? "nothing" : it->second.first + " / " + it->second.second);
      }
    }
  }
  EXPECT_EQ(lost, 0) << "lost updates out of " << logged;
  EXPECT_EQ(static_cast<long long>(table.size()), 200000 + inserted);
  EXPECT_EQ(count(c, "SELECT count(*) FROM accounts WHERE balance_cents IS DISTINCT FROM "
                     "round(balance::numeric * 100)::bigint OR balance IS DISTINCT FROM "
                     "(balance_cents / 100.0)::numeric(12,2)::text"),
            0);
  RecordProperty("writes_during_backfill", std::to_string(during));
  std::cout << "writes during the backfill: " << during << ", rows logged: " << logged << "\n";
}

TEST_F(BackfillTest, StopWithSigintThenResumeConvertsEachRowOnce) {
  exec("CREATE TABLE ledger (id int PRIMARY KEY, amount text, amount_cents bigint, touches int NOT NULL DEFAULT 0)");
  exec("INSERT INTO ledger (id, amount) SELECT i, (i / 100.0)::numeric(12,2)::text FROM generate_series(1, 50000) i");
  // Counts how many times the backfill writes each row.
  exec("CREATE FUNCTION ledger_touch() RETURNS trigger LANGUAGE plpgsql AS "
       "$$BEGIN NEW.touches := OLD.touches + 1; RETURN NEW; END$$");
  exec("CREATE TRIGGER ledger_touch BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_touch()");
  const pid_t pid = spawn(backfill_argv({"--migration", "ledger_cents", "--batch", "500", "--pause-ms", "30"}),
                          log_path("sigint"));
  Conn c = direct();
  long long done = 0;
  for (const auto end = Clock::now() + 60s; Clock::now() < end && done < 2000; std::this_thread::sleep_for(10ms)) {
    Result r = c.exec("SELECT rows_done FROM pgshim_backfill_progress WHERE migration = 'ledger_cents'");
    if (r.ok() && r.rows() == 1) done = std::stoll(r.value());
  }
  ASSERT_GE(done, 2000) << read_file(log_path("sigint"));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const int code = wait_exit(pid, 60s);
  const std::string stopped = read_file(log_path("sigint"));
  EXPECT_EQ(code, 1) << stopped;
  EXPECT_NE(stopped.find("stopped after key (id = "), std::string::npos) << stopped;
  EXPECT_NE(stopped.find("to resume where it stopped, run:\n  pgshim backfill --rules"), std::string::npos) << stopped;

  // Exactly the recorded batches are converted: every row up to the last key, none after.
  const long long last = std::stoll(c.scalar("SELECT last_key[1] FROM pgshim_backfill_progress "
                                             "WHERE migration = 'ledger_cents'"));
  const long long rows_done = std::stoll(c.scalar("SELECT rows_done FROM pgshim_backfill_progress "
                                                  "WHERE migration = 'ledger_cents'"));
  EXPECT_LT(last, 50000);
  EXPECT_EQ(rows_done, last);
  EXPECT_EQ(count(c, "SELECT count(*) FROM ledger WHERE amount_cents IS NOT NULL"), last);
  EXPECT_EQ(count(c, fmt::format("SELECT count(*) FROM ledger WHERE (id <= {0}) <> (touches = 1)", last)), 0);

  // No replica here: the lag bound is checked (0 bytes) and never waits.
  const RunResult resumed =
      backfill("sigint-resume", {"--migration", "ledger_cents", "--batch", "500", "--max-lag-bytes", "1000000"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find(fmt::format("resuming after key (id = {})", last)), std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find("verified: 0 rows"), std::string::npos) << resumed.output;
  EXPECT_EQ(count(c, "SELECT count(*) FROM ledger WHERE touches <> 1"), 0);
  EXPECT_EQ(count(c, "SELECT count(*) FROM ledger WHERE amount_cents IS DISTINCT FROM "
                     "round(amount::numeric * 100)::bigint"),
            0);
}

TEST_F(BackfillTest, TableWithoutUsableKeyFailsBeforeTouchingAnything) {
  exec("CREATE TABLE nokey_ok (id int PRIMARY KEY, v text, w text)");
  exec("CREATE TABLE nokey_bad (id int, v text, w text)");
  exec("CREATE UNIQUE INDEX nokey_bad_id ON nokey_bad (id)");  // unique, but id may be NULL
  exec("INSERT INTO nokey_ok (id, v) SELECT i, 'v' || i FROM generate_series(1, 100) i");
  exec("INSERT INTO nokey_bad (id, v) SELECT i, 'v' || i FROM generate_series(1, 100) i");
  const RunResult r = backfill("nokey", {"--migration", "nokey_rename"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("nokey_bad: no usable key"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ADD PRIMARY KEY"), std::string::npos) << r.output;
  Conn c = direct();
  // The good table of the same migration is untouched too.
  EXPECT_EQ(count(c, "SELECT count(*) FROM nokey_ok WHERE w IS NOT NULL"), 0);
  EXPECT_EQ(count(c, "SELECT count(*) FROM nokey_bad WHERE w IS NOT NULL"), 0);
  if (c.scalar("SELECT to_regclass('pgshim_backfill_progress') IS NOT NULL") == "t") {
    EXPECT_EQ(count(c, "SELECT count(*) FROM pgshim_backfill_progress WHERE migration = 'nokey_rename'"), 0);
  }
}

TEST_F(BackfillTest, FailingUpExpressionNamesTheRowAndKeepsWholeBatches) {
  exec("CREATE TABLE bad (id int PRIMARY KEY, raw text, num numeric)");
  exec("INSERT INTO bad (id, raw) SELECT i, i::text FROM generate_series(1, 5000) i");
  exec("UPDATE bad SET raw = 'abc' WHERE id = 3210");
  const RunResult dry = backfill("bad-dry", {"--migration", "bad_up", "--batch", "1000", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("key: id (bad_pkey, primary key)"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("FOR NO KEY UPDATE"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("dry run: nothing was changed"), std::string::npos) << dry.output;
  Conn c = direct();
  EXPECT_EQ(count(c, "SELECT count(*) FROM bad WHERE num IS NOT NULL"), 0);

  const RunResult r = backfill("bad", {"--migration", "bad_up", "--batch", "1000"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("the batch after key (id = 3000) failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("invalid input syntax for type numeric"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("on the row with key (id = 3210)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rolled back"), std::string::npos) << r.output;
  // Whole batches only: 1..3000 converted and recorded, the failing batch not at all.
  EXPECT_EQ(count(c, "SELECT count(*) FROM bad WHERE (id <= 3000) <> (num IS NOT NULL)"), 0);
  EXPECT_EQ(c.scalar("SELECT last_key[1] FROM pgshim_backfill_progress WHERE migration = 'bad_up'"), "3000");

  exec("UPDATE bad SET raw = '0' WHERE id = 3210");
  const RunResult fixed = backfill("bad-fixed", {"--migration", "bad_up", "--batch", "1000"});
  EXPECT_EQ(fixed.exit_code, 0) << fixed.output;
  EXPECT_NE(fixed.output.find("resuming after key (id = 3000)"), std::string::npos) << fixed.output;
  EXPECT_EQ(count(c, "SELECT count(*) FROM bad WHERE num IS DISTINCT FROM raw::numeric"), 0);
}

TEST_F(BackfillTest, LockedRowTimesOutThenRetrySucceeds) {
  exec("CREATE TABLE locked (id int PRIMARY KEY, a text, b text)");
  exec("INSERT INTO locked (id, a) SELECT i, 'a' || i FROM generate_series(1, 3000) i");
  Conn holder = direct();
  ASSERT_TRUE(holder.exec("BEGIN").ok());
  ASSERT_EQ(holder.scalar("SELECT a FROM locked WHERE id = 1500 FOR UPDATE"), "a1500");
  const pid_t pid = spawn(backfill_argv({"--table", "locked", "--batch", "1000", "--lock-timeout-ms",
                                         "200", "--max-retries", "100"}),
                          log_path("locked"));
  bool timed_out = false;
  for (const auto end = Clock::now() + 30s; Clock::now() < end && !timed_out; std::this_thread::sleep_for(20ms)) {
    timed_out = read_file(log_path("locked")).find("lock timeout on the batch after key (id = 1000)") !=
                std::string::npos;
  }
  ASSERT_TRUE(timed_out) << read_file(log_path("locked"));
  Conn c = direct();
  // While it waits: the first batch done, the blocked one not started.
  EXPECT_EQ(count(c, "SELECT count(*) FROM locked WHERE (id <= 1000) <> (b IS NOT NULL)"), 0);
  ASSERT_TRUE(holder.exec("COMMIT").ok());
  const int code = wait_exit(pid, 60s);
  const std::string output = read_file(log_path("locked"));
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("verified: 0 rows"), std::string::npos) << output;
  EXPECT_EQ(count(c, "SELECT count(*) FROM locked WHERE b IS DISTINCT FROM a"), 0);
}

TEST_F(BackfillTest, MigrationsOutsideExpandedAreSkipped) {
  const RunResult r = backfill("planned", {"--migration", "still_planned"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("migration still_planned: phase planned, skipped"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("nothing to backfill"), std::string::npos) << r.output;
  const RunResult missing = backfill("missing", {"--migration", "no_such"});
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

}  // namespace
}  // namespace pgshim::testing
