// The server killed under load: pgbench and a writer that records every
// acknowledged commit run through pgshim while PostgreSQL is shut down
// immediately (SIGQUIT: no checkpoint, every backend dropped, WAL replayed at the
// next start) and started again. The clients get errors, the proxy keeps
// serving, and no acknowledged commit is lost.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "tests/integration/harness/checks.h"
#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"

namespace pgshim::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kPgbench = "/usr/lib/postgresql/15/bin/pgbench";
constexpr const char* kDatabase = "killbench";
constexpr long kMaxWrites = 200000;

// Inserts one row per autocommit statement through the proxy and records the ids
// whose commit was acknowledged; reconnects after any failure. Its sessions run
// with synchronous_commit on (the test server's default is off, under which
// PostgreSQL itself may lose the last acknowledged commits in a crash).
class AckedWriter {
 public:
  explicit AckedWriter(const ProxyProcess& proxy)
      : dsn_(proxy.dsn(kDatabase, "postgres", "sslmode=disable options=-csynchronous_commit=on")),
        thread_([this] { run(); }) {}
  ~AckedWriter() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<long> acked() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::size_t acked_count() const {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }
  int failures() const { return failures_; }
  const std::string& first_failure() const { return first_failure_; }

 private:
  void run() {
    std::unique_ptr<Conn> conn;
    for (long id = 1; id <= kMaxWrites && !stop_; ++id) {
      if (!conn) {
        conn = std::make_unique<Conn>(dsn_);
        if (!conn->ok()) {
          conn.reset();
          std::this_thread::sleep_for(100ms);
          continue;
        }
      }
      Result r = conn->exec(fmt::format("INSERT INTO acked VALUES ({})", id));
      if (r.ok()) {
        std::lock_guard lock(mutex_);
        acked_.push_back(id);
        continue;
      }
      if (failures_++ == 0) first_failure_ = conn->error() + r.error();
      conn.reset();
    }
  }
  const std::string dsn_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::string first_failure_;
  mutable std::mutex mutex_;
  std::vector<long> acked_;
  std::thread thread_;
};

std::vector<std::string> pgbench(const ProxyProcess& proxy, std::vector<std::string> args) {
  std::vector<std::string> argv = {kPgbench, "-h", "127.0.0.1", "-p", std::to_string(proxy.port()), "-U", "postgres"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.emplace_back(kDatabase);
  return argv;
}

TEST(FaultUpstream, ServerKilledAndRestartedDuringPgbench) {
  auto& pg = PgServer::shared();
  pg.create_database(kDatabase);
  pg.exec("CREATE TABLE acked (id bigint PRIMARY KEY)", kDatabase);
  ProxyProcess proxy(pg, {.extra_args = {"--upstream-tls", "disable"}});
  const std::string init_log = proxy.dir() + "/pgbench-init.log";
  ASSERT_EQ(run_for(pgbench(proxy, {"-i", "-s", "1", "-q"}), init_log, 60s), 0) << read_file(init_log);

  const std::string during_log = proxy.dir() + "/pgbench-during.log";
  int during_status = -2;
  std::thread bench([&] { during_status = run_for(pgbench(proxy, {"-c", "4", "-j", "2", "-T", "15"}), during_log, 60s); });
  AckedWriter writer(proxy);
  std::this_thread::sleep_for(3s);
  pg.kill();
  const std::size_t acked_at_kill = writer.acked_count();
  std::this_thread::sleep_for(1s);
  pg.start();
  // The writer reconnects through the same proxy and is acknowledged again.
  const auto deadline = Clock::now() + 30s;
  while (writer.acked_count() <= acked_at_kill + 20 && Clock::now() < deadline) std::this_thread::sleep_for(50ms);
  writer.stop();
  bench.join();

  std::printf("writer: %zu commits acknowledged, %zu of them before the kill; %d statements failed\n",
              writer.acked_count(), acked_at_kill, writer.failures());
  const std::string during = read_file(during_log);
  EXPECT_NE(during_status, 0) << during;
  EXPECT_NE(during.find("aborted"), std::string::npos) << "pgbench's clients saw no error:\n" << during;
  EXPECT_GT(acked_at_kill, 0u);
  EXPECT_GT(writer.acked_count(), acked_at_kill + 20) << "no commit through the proxy after the restart";
  EXPECT_GE(writer.failures(), 1) << "the writer never saw the server go";
  EXPECT_LE(writer.failures(), 3) << "one failure per outage, then a working reconnection: "
                                  << writer.first_failure();

  // Every acknowledged commit survived the crash; a row whose acknowledgement was
  // lost with the connection may be there too, at most one per failure.
  Conn check(pg.dsn(kDatabase));
  Result rows = check.exec("SELECT id FROM acked");
  ASSERT_TRUE(rows.ok()) << rows.error();
  std::set<long> found;
  for (int i = 0; i < rows.rows(); ++i) found.insert(std::stol(rows.value(i, 0)));
  const std::vector<long> acked = writer.acked();
  const auto lost = std::count_if(acked.begin(), acked.end(), [&](long id) { return found.count(id) == 0; });
  EXPECT_EQ(lost, 0) << lost << " of " << acked.size() << " acknowledged commits are missing";
  EXPECT_LE(found.size(), acked.size() + static_cast<std::size_t>(writer.failures()));

  // pgbench again, through the same proxy: no failure at all.
  const std::string after_log = proxy.dir() + "/pgbench-after.log";
  ASSERT_EQ(run_for(pgbench(proxy, {"-c", "4", "-j", "2", "-T", "3"}), after_log, 60s), 0) << read_file(after_log);
  const std::string after = read_file(after_log);
  EXPECT_NE(after.find("number of failed transactions: 0 (0.000%)"), std::string::npos) << after;
  int status = 0;
  EXPECT_EQ(waitpid(proxy.pid(), &status, WNOHANG), 0) << "pgshim exited";
  EXPECT_EQ(proxy.log().find("unexpected error"), std::string::npos) << tail(proxy.log());
  expect_serves_new_client(proxy);
}

}  // namespace
}  // namespace pgshim::testing
