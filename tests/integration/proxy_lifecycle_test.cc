// The proxy under load and through the life of its connections: TLS on the client
// side, memory bounded while 200 MB stream each way, a server that restarts or
// loses a backend, and a graceful SIGTERM.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"

namespace pgshim::testing {
namespace {

constexpr long kMiB = 1024;  // in KiB, as /proc reports
// Two 16 KiB buffers per connection plus the largest message held whole; the
// rest is the process's own baseline. A 200 MB transfer must stay far below it.
constexpr long kMemoryBoundKib = 16 * kMiB;

ProxyProcess::Options plain() { return {.extra_args = {"--upstream-tls", "disable"}}; }

TEST(ProxyTls, ClientTlsWithSslmodeRequire) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable"}, .tls = true});
  Conn c(proxy.dsn("postgres", "postgres", "sslmode=require"));
  ASSERT_TRUE(c.ok()) << c.error() << proxy.log();
  EXPECT_EQ(PQsslInUse(c.get()), 1);
  EXPECT_EQ(c.scalar("SELECT 'over tls'"), "over tls");
  // SCRAM through a TLS client side: the proxy hides SCRAM-SHA-256-PLUS, so the
  // client uses plain SCRAM-SHA-256 and channel_binding=prefer still connects.
  Conn scram(proxy.dsn("postgres", "scram_user", "sslmode=require password=scram_pass channel_binding=prefer"));
  ASSERT_TRUE(scram.ok()) << scram.error();
  EXPECT_EQ(scram.scalar("SELECT current_user"), "scram_user");
  Conn must_bind(proxy.dsn("postgres", "scram_user", "sslmode=require password=scram_pass channel_binding=require"));
  EXPECT_FALSE(must_bind.ok());
}

TEST(ProxyTls, UpstreamTlsRequire) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "require"}});
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << c.error() << proxy.log();
  EXPECT_EQ(c.scalar("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"), "true");
}

TEST(ProxyMemory, LargeResultIsStreamedWithBoundedMemory) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << c.error();
  const long before = process_memory(proxy.pid()).hwm_kib;
  // 200,000 rows of 1,000 bytes, and one 64 MiB row far larger than any buffer.
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT repeat('x', 1000) FROM generate_series(1, 200000);"
                                 "SELECT repeat('y', 64 * 1024 * 1024)"), 1);
  ASSERT_EQ(PQsetSingleRowMode(c.get()), 1);
  long rows = 0;
  std::size_t bytes = 0;
  while (PGresult* r = PQgetResult(c.get())) {
    Result owned(r);
    ASSERT_TRUE(owned.ok() || owned.status() == PGRES_SINGLE_TUPLE) << owned.error();
    if (owned.status() == PGRES_SINGLE_TUPLE) {
      ++rows;
      bytes += static_cast<std::size_t>(PQgetlength(r, 0, 0));
    }
  }
  EXPECT_EQ(rows, 200001);
  EXPECT_EQ(bytes, 200000u * 1000u + 64u * 1024u * 1024u);
  const long growth = process_memory(proxy.pid()).hwm_kib - before;
  EXPECT_LT(growth, kMemoryBoundKib) << "pgshim grew by " << growth << " KiB";
}

TEST(ProxyMemory, LargeCopyInIsStreamedWithBoundedMemory) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_TRUE(c.exec("CREATE TEMP TABLE big (v text)").ok());
  const long before = process_memory(proxy.pid()).hwm_kib;
  Result start = c.exec("COPY big FROM STDIN");
  ASSERT_EQ(start.status(), PGRES_COPY_IN);
  const std::string line = std::string(1023, 'z') + "\n";
  std::string chunk;
  for (int i = 0; i < 1024; ++i) chunk += line;  // 1 MiB per CopyData message
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(PQputCopyData(c.get(), chunk.data(), static_cast<int>(chunk.size())), 1);
  }
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Result done(PQgetResult(c.get()));
  ASSERT_TRUE(done.ok()) << done.error();
  EXPECT_EQ(done.command_tuples(), std::to_string(200 * 1024));
  const long growth = process_memory(proxy.pid()).hwm_kib - before;
  EXPECT_LT(growth, kMemoryBoundKib) << "pgshim grew by " << growth << " KiB";
}

// How many times the postmaster has restarted its processes after a crash.
int crash_restarts(const PgServer& pg) {
  const std::string log = read_file(pg.dir() + "/postgres.log");
  int count = 0;
  for (auto at = log.find("all server processes terminated; reinitializing"); at != std::string::npos;
       at = log.find("all server processes terminated; reinitializing", at + 1)) {
    ++count;
  }
  return count;
}

TEST(ProxyLifecycle, BackendKilledGivesClientConnectionFailure) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok());
  const pid_t backend = std::stoi(c.scalar("SELECT pg_backend_pid()"));
  const int restarts_before = crash_restarts(pg);
  ASSERT_EQ(kill(backend, SIGKILL), 0);
  Result r = c.exec("SELECT 1");
  EXPECT_FALSE(r.ok());
  // The postmaster ends every backend after a crash; the client is told by
  // either the server (57P02) or, when the backend vanished silently, pgshim (08006).
  const std::string message = c.error() + r.error();
  EXPECT_TRUE(message.find("pgshim: the server closed the connection") != std::string::npos ||
              message.find("terminating connection") != std::string::npos) << message;
  // Crash recovery, then the proxy serves new clients again. A connection made
  // before the postmaster noticed the crash would be ended by it: wait for the
  // restart it logs first.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (crash_restarts(pg) == restarts_before) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the postmaster did not restart its processes";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (;;) {
    Conn again(proxy.dsn());
    if (again.ok() && again.exec("SELECT 1").ok()) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << again.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

TEST(ProxyLifecycle, ServerRestartUnderConnectedClient) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.scalar("SELECT 1"), "1");
  pg.restart();
  Result r = c.exec("SELECT 1");
  EXPECT_FALSE(r.ok());
  const std::string message = c.error() + r.error();
  EXPECT_NE(message.find("terminating connection"), std::string::npos) << message;
  Conn fresh(proxy.dsn());
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  EXPECT_EQ(fresh.scalar("SELECT 2"), "2");
}

TEST(ProxyLifecycle, ServerUnreachableGivesFatal08006) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  pg.stop();
  Conn c(proxy.dsn());
  EXPECT_FALSE(c.ok());
  EXPECT_NE(c.error().find("pgshim: cannot connect to the server"), std::string::npos) << c.error();
  pg.start();
  Conn again(proxy.dsn());
  EXPECT_TRUE(again.ok()) << again.error();
}

TEST(ProxyLifecycle, SigtermLetsOpenTransactionsFinish) {
  auto& pg = PgServer::shared();
  pg.exec("DROP TABLE IF EXISTS shutdown_t");
  pg.exec("CREATE TABLE shutdown_t (id int)");
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable", "--shutdown-grace-ms", "10000"}});
  Conn busy(proxy.dsn());
  Conn idle(proxy.dsn());
  ASSERT_TRUE(busy.ok() && idle.ok());
  ASSERT_TRUE(busy.exec("BEGIN").ok());
  ASSERT_TRUE(busy.exec("INSERT INTO shutdown_t VALUES (1)").ok());
  ASSERT_EQ(kill(proxy.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // New clients are refused, the idle one was told, the open transaction goes on.
  Conn refused(proxy.dsn());
  EXPECT_FALSE(refused.ok());
  EXPECT_FALSE(idle.exec("SELECT 1").ok());
  Result commit = busy.exec("COMMIT");
  EXPECT_TRUE(commit.ok()) << commit.error();
  EXPECT_EQ(pg.dsn().empty(), false);
  Conn check(pg.dsn());
  EXPECT_EQ(check.scalar("SELECT count(*) FROM shutdown_t"), "1");
  const int status = proxy.stop(5000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << proxy.log();
}

// A supervisor may send SIGTERM more than once. One that arrives while the
// proxy is already tearing down must not turn its clean exit into a kill.
TEST(ProxyLifecycle, RepeatedSigtermStillExitsCleanly) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, plain());
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << c.error();
  const pid_t pid = proxy.pid();
  std::atomic<bool> done{false};
  std::thread repeat([&] {
    // Bounded: at most 10 s of one SIGTERM per millisecond.
    for (int i = 0; i < 10000 && !done.load(); ++i) {
      kill(pid, SIGTERM);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const int status = proxy.stop(10000);
  done = true;
  repeat.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status << (WIFSIGNALED(status) ? fmt::format(" (signal {})", WTERMSIG(status)) : "")
      << proxy.log();
}

TEST(ProxyLifecycle, SigtermClosesBusySessionsAfterGracePeriod) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable", "--shutdown-grace-ms", "500"}});
  Conn busy(proxy.dsn());
  ASSERT_TRUE(busy.exec("BEGIN").ok());
  const auto started = std::chrono::steady_clock::now();
  const int status = proxy.stop(10000);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(busy.exec("COMMIT").ok());
}

TEST(ProxyThreads, SessionsSpreadOverWorkerThreads) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable", "--threads", "2"}});
  std::vector<Conn> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back(proxy.dsn());
    ASSERT_TRUE(clients.back().ok()) << clients.back().error() << proxy.log();
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(clients[i].scalar(fmt::format("SELECT {}", i)), std::to_string(i));
  EXPECT_EQ(proxy.log().find("unexpected error"), std::string::npos) << proxy.log();
}

TEST(ProxyLimits, TooManyClientsGet53300) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable", "--max-client-connections", "2"}});
  Conn first(proxy.dsn());
  Conn second(proxy.dsn());
  ASSERT_TRUE(first.ok() && second.ok());
  Conn third(proxy.dsn());
  EXPECT_FALSE(third.ok());
  EXPECT_NE(third.error().find("too many clients"), std::string::npos) << third.error();
  EXPECT_EQ(first.scalar("SELECT 1"), "1");
}

TEST(ProxyLimits, OversizedQueryGets08P01) {
  auto& pg = PgServer::shared();
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable", "--max-message-size", "2048"}});
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.scalar("SELECT 'small enough'"), "small enough");
  Result r = c.exec("SELECT '" + std::string(4096, 'x') + "'");
  EXPECT_FALSE(r.ok());
  EXPECT_NE((c.error() + r.error()).find("max_message_size"), std::string::npos) << c.error() << r.error();
  Conn other(proxy.dsn());
  EXPECT_EQ(other.scalar("SELECT 'others still served'"), "others still served");
}

}  // namespace
}  // namespace pgshim::testing
