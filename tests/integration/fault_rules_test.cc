// Operators' mistakes and moves under traffic: a rule file cut short while the
// proxy serves, and phase switches back and forth, each while pgbench clients of
// both application versions (simple, extended and prepared protocol) run
// transactions that check what they read. Not one of them may see an error.
// The whole-migration oracle is migration_traffic_test.cc; this one is about
// reloads landing on busy sessions.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tests/integration/harness/checks.h"
#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/rules_proxy.h"

namespace pgshim::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPgbench = "/usr/lib/postgresql/15/bin/pgbench";
constexpr const char* kMigration = "rename_0001";
constexpr int kRows = 100;
constexpr auto kHold = 1500ms;  // traffic between two steps

std::string rule_file(std::string_view database, std::string_view phase, bool with_nickname) {
  const std::string rename = "  - rename_column:\n      table: users\n      from: fullname\n      to: display_name\n";
  return shop_rule(kMigration, database, phase,
                   with_nickname ? rename + "  - add_column:\n      table: users\n"
                                            "      column: { name: nickname, type: text }\n"
                                            "      default: \"'n/a'\"\n"
                                 : rename,
                   "strict: true\n");
}

// Each transaction writes a row and reads it back in its own version's column
// name; a read that differs from the write divides by zero, so pgbench fails.
std::string script(std::string_view version) {
  const char* column = version == "v1" ? "fullname" : "display_name";
  return fmt::format(R"(\set id random(1, {0})
BEGIN;
UPDATE users SET {1} = '{2}-' || :client_id || '-' || :id WHERE id = :id;
SELECT 1 / (CASE WHEN {1} = '{2}-' || :client_id || '-' || :id THEN 1 ELSE 0 END) FROM users WHERE id = :id;
COMMIT;
)",
                     kRows, column, version);
}

// pgbench processes of both versions, one per protocol mode, running at once.
class Traffic {
 public:
  Traffic(const ProxyProcess& proxy, std::string_view database, int seconds) {
    struct Kind {
      const char* version;
      const char* mode;
    };
    for (const Kind& k : {Kind{"v1", "simple"}, Kind{"v1", "prepared"}, Kind{"v2", "extended"}, Kind{"v2", "prepared"}}) {
      auto& r = runs_.emplace_back();
      r.name = fmt::format("app-{} -M {}", k.version, k.mode);
      const std::string script_file = fmt::format("{}/{}.sql", proxy.dir(), k.version);
      std::ofstream(script_file) << script(k.version);
      r.log = fmt::format("{}/pgbench-{}-{}.log", proxy.dir(), k.version, k.mode);
      r.argv = {kPgbench, "-n", "-c", "2", "-j", "1", "-T", std::to_string(seconds), "-M", k.mode, "-f", script_file,
                "-h", "127.0.0.1", "-p", std::to_string(proxy.port()), "-U", "postgres",
                fmt::format("dbname={} application_name=shop-{}", database, k.version)};
    }
    for (auto& r : runs_) {
      threads_.emplace_back([&r, seconds] { r.status = run_for(r.argv, r.log, std::chrono::seconds(seconds + 60)); });
    }
  }
  ~Traffic() { join(); }
  void join() {
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Asserts that every run ended well, with transactions and no failure.
  void expect_no_error() const {
    for (const auto& r : runs_) {
      const std::string output = read_file(r.log);
      EXPECT_EQ(r.status, 0) << r.name << ":\n" << tail(output);
      EXPECT_NE(output.find("number of failed transactions: 0 (0.000%)"), std::string::npos) << r.name << ":\n"
                                                                                              << tail(output);
      EXPECT_EQ(output.find("number of transactions actually processed: 0/"), std::string::npos) << r.name;
    }
  }

 private:
  struct Run {
    std::string name;
    std::vector<std::string> argv;
    std::string log;
    int status = -2;
  };
  std::vector<Run> runs_;  // complete before the threads start: they hold references
  std::vector<std::thread> threads_;
};

void create_users(const PgServer& pg, std::string_view database, bool both_columns) {
  pg.create_database(database);
  pg.exec(fmt::format("CREATE TABLE users (id bigint PRIMARY KEY, fullname text{});"
                      "INSERT INTO users SELECT i, 'seed' FROM generate_series(1, {}) i",
                      both_columns ? ", display_name text" : "", kRows),
          database);
}

TEST(FaultRules, BrokenRuleFileDuringTrafficKeepsTheRulesInForce) {
  constexpr const char* kDatabase = "faultreload";
  auto& pg = PgServer::shared();
  create_users(pg, kDatabase, false);
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable"}});
  const std::string file = proxy.rules_dir() + "/rename.yaml";
  std::ofstream(file) << rule_file(kDatabase, "planned", false);
  ASSERT_EQ(kill(proxy.pid(), SIGHUP), 0);
  ASSERT_TRUE(proxy.wait_for_log(" in force: ", 0, 10s)) << tail(proxy.log());

  Traffic traffic(proxy, kDatabase, 8);
  std::this_thread::sleep_for(kHold);
  // A file cut short, as an editor or a copy might leave it: rename_column loses
  // its from and to. New clients' SQL names display_name, which exists only
  // through the rules, so losing them would fail every new client.
  const std::string whole = rule_file(kDatabase, "planned", true);
  const std::size_t refused = proxy.log_count("rules not reloaded");
  const std::size_t reloads = proxy.log_count(" in force: ");
  std::ofstream(file, std::ios::trunc) << whole.substr(0, whole.find("      from:"));
  ASSERT_TRUE(proxy.wait_for_log("rules not reloaded", refused, 10s)) << tail(proxy.log());
  EXPECT_NE(proxy.log().find("rename.yaml"), std::string::npos) << "the error names the file";
  std::this_thread::sleep_for(kHold);
  // The whole file: picked up, with the column it adds.
  std::ofstream(file, std::ios::trunc) << whole;
  ASSERT_TRUE(proxy.wait_for_log(" in force: ", reloads, 10s)) << tail(proxy.log());
  Conn v2(proxy.dsn(kDatabase, "postgres", "sslmode=disable application_name=shop-v2"));
  EXPECT_EQ(v2.scalar("SELECT nickname FROM users WHERE id = 1"), "n/a");
  traffic.join();
  traffic.expect_no_error();
  expect_serves_new_client(proxy);
}

TEST(FaultRules, PhaseSwitchesDuringTraffic) {
  constexpr const char* kDatabase = "faultphase";
  auto& pg = PgServer::shared();
  // Both columns exist and are in sync, so expanded and backfilled may
  // alternate (both write both columns; a new client reads up(fullname) in one,
  // display_name in the other), before the last move to contracted.
  create_users(pg, kDatabase, true);
  pg.exec("UPDATE users SET display_name = fullname", kDatabase);
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable"}});
  std::ofstream(proxy.rules_dir() + "/rename.yaml") << rule_file(kDatabase, "expanded", false);
  ASSERT_EQ(kill(proxy.pid(), SIGHUP), 0);
  ASSERT_TRUE(proxy.wait_for_log(" in force: ", 0, 10s)) << tail(proxy.log());

  Traffic traffic(proxy, kDatabase, 12);
  std::this_thread::sleep_for(kHold);
  const std::size_t reloads = proxy.log_count(" in force: ");
  for (const char* phase : {"backfilled", "expanded", "backfilled", "contracted"}) {
    ASSERT_EQ(proxy.set_phase(kMigration, phase), "");
    std::this_thread::sleep_for(kHold);
  }
  EXPECT_GE(proxy.log_count(" in force: "), reloads + 4);
  traffic.join();
  traffic.expect_no_error();
  expect_serves_new_client(proxy);
}

}  // namespace
}  // namespace pgshim::testing
