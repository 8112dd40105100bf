// Limits with clear errors: the idle timeouts (off by default), and the bound on
// every message the proxy holds whole. The connection limit (53300) and the
// Query bound are tested in proxy_lifecycle_test.cc, the startup timeout in
// proxy_test.cc and fault_client_test.cc.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/checks.h"
#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/raw_client.h"

namespace pgshim::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 1000ms;  // the idle timeout under test
constexpr auto kLonger = 2500ms;   // well past it

ProxyProcess::Options with(std::vector<std::string> args) {
  args.insert(args.begin(), {"--upstream-tls", "disable"});
  return {.extra_args = std::move(args)};
}

// Reads what the proxy says to an idle client: the FATAL, then the end.
void expect_closed_with(RawClient& raw, std::string_view sqlstate, std::string_view words,
                        Clock::time_point idle_since) {
  auto answer = raw.read(kTimeout + 5s);
  ASSERT_TRUE(answer.has_value()) << "not closed";
  const auto idle = Clock::now() - idle_since;
  EXPECT_EQ(answer->type, 'E');
  EXPECT_EQ(answer->error_field('S'), "FATAL");
  EXPECT_EQ(answer->error_field('C'), sqlstate);
  EXPECT_NE(answer->error_field('M').find(words), std::string::npos) << answer->error_field('M');
  EXPECT_GE(idle, kTimeout - 100ms);
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST(IdleTimeouts, ClientIdleTimeoutClosesAClientIdleBetweenTransactions) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, with({"--client-idle-timeout-ms", std::to_string(kTimeout.count())}));
  RawClient idle(proxy.port());
  ASSERT_TRUE(idle.startup("postgres", "postgres", "idle_between"));
  ASSERT_TRUE(idle.simple_query("SELECT 1"));
  const auto idle_since = Clock::now();
  // A client that keeps working past the timeout is not touched, nor is one idle
  // inside a transaction (idle_transaction_timeout is off).
  Conn in_transaction(proxy.dsn());
  ASSERT_TRUE(in_transaction.ok());
  ASSERT_TRUE(in_transaction.exec("BEGIN").ok());
  int busy_queries = 0;
  std::string busy_error;
  std::thread busy([&] {
    Conn c(proxy.dsn());
    for (auto until = Clock::now() + kLonger; Clock::now() < until && busy_error.empty(); ++busy_queries) {
      Result r = c.exec("SELECT 'busy'");
      if (!r.ok()) busy_error = c.error() + r.error();
      // Far inside the timeout: only a stall of most of a second (a loaded CI
      // machine) could make this client look idle.
      std::this_thread::sleep_for(kTimeout / 10);
    }
  });
  expect_closed_with(idle, "57P05", "client_idle_timeout", idle_since);  // no ASSERT: `busy` is joined below
  EXPECT_EQ(wait_for_client_backends(pg, 0, 10s, "idle_between"), 0);
  busy.join();
  EXPECT_EQ(busy_error, "");
  EXPECT_GE(busy_queries, 5);
  EXPECT_EQ(in_transaction.scalar("SELECT 'still in it'"), "still in it");
  EXPECT_TRUE(in_transaction.exec("COMMIT").ok());
  expect_serves_new_client(proxy);
}

TEST(IdleTimeouts, IdleTransactionTimeoutClosesAndRollsBack) {
  auto& pg = PgServer::shared();
  pg.exec("CREATE TABLE IF NOT EXISTS idle_tx (id int)");
  // Through the configuration file this time.
  const std::string config = std::filesystem::temp_directory_path() / fmt::format("pgshim-idle-{}.yaml", getpid());
  std::ofstream(config) << fmt::format("idle_transaction_timeout_ms: {}\n", kTimeout.count());
  ProxyProcess proxy(pg, with({"--config", config}));
  std::filesystem::remove(config);
  RawClient idle(proxy.port());
  ASSERT_TRUE(idle.startup("postgres", "postgres", "idle_in_tx"));
  ASSERT_TRUE(idle.simple_query("BEGIN"));
  ASSERT_TRUE(idle.simple_query("INSERT INTO idle_tx VALUES (1)"));
  const auto idle_since = Clock::now();
  // Idle outside a transaction (client_idle_timeout is off), and busy inside one
  // for longer than the timeout: neither is idle in a transaction.
  Conn outside(proxy.dsn());
  Conn working(proxy.dsn());
  ASSERT_TRUE(outside.ok() && working.ok());
  ASSERT_TRUE(working.exec("BEGIN").ok());
  ASSERT_TRUE(working.exec(fmt::format("SELECT pg_sleep({})", kLonger.count() / 1000.0)).ok());
  EXPECT_TRUE(working.exec("COMMIT").ok());
  ASSERT_NO_FATAL_FAILURE(expect_closed_with(idle, "25P03", "idle_transaction_timeout", idle_since));
  EXPECT_EQ(wait_for_client_backends(pg, 0, 10s, "idle_in_tx"), 0);
  Conn check(pg.dsn());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM idle_tx"), "0");
  EXPECT_EQ(outside.scalar("SELECT 'idle but not in a transaction'"), "idle but not in a transaction");
  expect_serves_new_client(proxy);
}

TEST(IdleTimeouts, OffByDefault) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, with({}));
  Conn idle(proxy.dsn());
  Conn in_transaction(proxy.dsn());
  ASSERT_TRUE(idle.ok() && in_transaction.ok());
  ASSERT_TRUE(in_transaction.exec("BEGIN").ok());
  std::this_thread::sleep_for(kLonger + 1s);
  EXPECT_EQ(idle.scalar("SELECT 'idle, kept'"), "idle, kept");
  EXPECT_EQ(in_transaction.scalar("SELECT 'in a transaction, kept'"), "in a transaction, kept");
  EXPECT_TRUE(in_transaction.exec("COMMIT").ok());
  EXPECT_EQ(proxy.log_count("idle_timeout"), 0u);
}

// Describe and Close are held whole like Query and Parse, so the same bound
// applies, before their body is read.
TEST(MessageBound, EveryMessageHeldWholeIsBounded) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, with({"--max-message-size", "4096"}));
  for (const char type : {'D', 'C', 'P'}) {
    SCOPED_TRACE(std::string(1, type));
    RawClient raw(proxy.port());
    ASSERT_TRUE(raw.startup("postgres", "postgres"));
    ASSERT_TRUE(raw.send(std::string(1, type) + RawClient::u32(1 << 20) + "S"));
    auto answer = raw.read(5s);
    ASSERT_TRUE(answer.has_value()) << "the proxy waited for a body it must not buffer";
    EXPECT_EQ(answer->error_field('S'), "FATAL");
    EXPECT_EQ(answer->error_field('C'), "08P01");
    EXPECT_NE(answer->error_field('M').find("exceeds max_message_size"), std::string::npos)
        << answer->error_field('M');
    EXPECT_TRUE(raw.closed_by_peer());
  }
  // A Parse through libpq: the extended protocol gets the same answer as a Query.
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok());
  Result r = c.exec_params("SELECT $1::text || '" + std::string(8192, 'x') + "'", {"a"});
  EXPECT_FALSE(r.ok());
  EXPECT_NE((c.error() + r.error()).find("max_message_size"), std::string::npos) << c.error() << r.error();
  // A Bind larger than the bound is streamed, not refused: the bound is for what is held.
  Conn binder(proxy.dsn());
  ASSERT_TRUE(binder.ok());
  Result large = binder.exec_params("SELECT length($1::text)", {std::string(100000, 'b')});
  ASSERT_TRUE(large.ok()) << large.error();
  EXPECT_EQ(large.value(), "100000");
  expect_serves_new_client(proxy);
}

}  // namespace
}  // namespace pgshim::testing
