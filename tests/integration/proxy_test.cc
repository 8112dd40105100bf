// The proxy with no rules, driven by real libpq clients and raw sockets against a
// PostgreSQL 15 that the harness starts: every message flow of the protocol passes
// through unchanged, and hostile bytes cost only their own connection.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"
#include "tests/integration/harness/raw_client.h"

namespace pgshim::testing {
namespace {

class ProxyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& pg = PgServer::shared();
    proxy_ = new ProxyProcess(pg, {.extra_args = {"--upstream-tls", "disable", "--startup-timeout-ms",
                                                  "1000"}});
    pg.exec("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY, name text)");
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
  }
  static Conn connect(std::string_view user = "postgres", std::string_view extra = "sslmode=disable") {
    Conn conn(proxy_->dsn("postgres", user, extra));
    EXPECT_TRUE(conn.ok()) << conn.error() << proxy_->log();
    return conn;
  }
  static ProxyProcess* proxy_;
};
ProxyProcess* ProxyTest::proxy_ = nullptr;

TEST_F(ProxyTest, SimpleQuery) {
  Conn c = connect();
  EXPECT_EQ(c.scalar("SELECT 40 + 2"), "42");
  Result r = c.exec("SELECT 'a' AS x UNION ALL SELECT 'b' ORDER BY 1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.rows(), 2);
  EXPECT_EQ(r.column_name(0), "x");
  EXPECT_EQ(r.value(1, 0), "b");
}

TEST_F(ProxyTest, MultiStatementQueryGivesEveryResult) {
  Conn c = connect();
  ASSERT_EQ(PQsendQuery(c.get(), "SELECT 1; SELECT 2, 3; CREATE TEMP TABLE t(x int); SELECT 4"), 1);
  std::vector<std::string> seen;
  while (PGresult* r = PQgetResult(c.get())) {
    Result owned(r);
    ASSERT_TRUE(owned.ok()) << owned.error();
    seen.push_back(owned.rows() > 0 ? owned.value(0, 0) : owned.command_status());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "CREATE TABLE", "4"}));
}

TEST_F(ProxyTest, ErrorInQueryKeepsSessionUsable) {
  Conn c = connect();
  Result r = c.exec("SELECT * FROM no_such_table");
  EXPECT_EQ(r.sqlstate(), "42P01");
  EXPECT_EQ(c.scalar("SELECT 'still here'"), "still here");
}

TEST_F(ProxyTest, ExtendedProtocolNamedAndUnnamed) {
  Conn c = connect();
  Result r = c.exec_params("SELECT $1::int * 2, $2::text", {"21", std::nullopt});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value(0, 0), "42");
  EXPECT_TRUE(r.is_null(0, 1));
  Result prepared(PQprepare(c.get(), "double_it", "SELECT $1::int * 2", 1, nullptr));
  ASSERT_TRUE(prepared.ok()) << prepared.error();
  for (int i = 0; i < 5; ++i) {
    const std::string v = std::to_string(i);
    const char* values[] = {v.c_str()};
    Result e(PQexecPrepared(c.get(), "double_it", 1, values, nullptr, nullptr, 0));
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e.value(), std::to_string(i * 2));
  }
  Result described(PQdescribePrepared(c.get(), "double_it"));
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(PQnparams(described.get()), 1);
}

TEST_F(ProxyTest, PipelineWithHundredQueriesInFlight) {
  Conn c = connect();
  ASSERT_EQ(PQenterPipelineMode(c.get()), 1);
  constexpr int kQueries = 100;
  for (int i = 0; i < kQueries; ++i) {
    const std::string v = std::to_string(i);
    const char* values[] = {v.c_str()};
    ASSERT_EQ(PQsendQueryParams(c.get(), "SELECT $1::int + 1000", 1, nullptr, values, nullptr, nullptr, 0), 1);
  }
  ASSERT_EQ(PQpipelineSync(c.get()), 1);
  int answered = 0;
  for (int i = 0; i < kQueries; ++i) {
    Result r(PQgetResult(c.get()));
    ASSERT_EQ(r.status(), PGRES_TUPLES_OK) << r.error();
    EXPECT_EQ(r.value(), std::to_string(i + 1000));
    ++answered;
    EXPECT_EQ(PQgetResult(c.get()), nullptr);
  }
  Result sync(PQgetResult(c.get()));
  EXPECT_EQ(sync.status(), PGRES_PIPELINE_SYNC);
  EXPECT_EQ(answered, kQueries);
  ASSERT_EQ(PQexitPipelineMode(c.get()), 1);
}

TEST_F(ProxyTest, CopyInAndOut) {
  Conn c = connect();
  ASSERT_TRUE(c.exec("CREATE TEMP TABLE copy_t (id int, v text)").ok());
  Result start = c.exec("COPY copy_t FROM STDIN");
  ASSERT_EQ(start.status(), PGRES_COPY_IN) << start.error();
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += fmt::format("{}\tvalue {}\n", i, i);
  ASSERT_EQ(PQputCopyData(c.get(), expected.data(), static_cast<int>(expected.size())), 1);
  ASSERT_EQ(PQputCopyEnd(c.get(), nullptr), 1);
  Result done(PQgetResult(c.get()));
  ASSERT_TRUE(done.ok()) << done.error();
  EXPECT_EQ(done.command_tuples(), "1000");
  Result out = c.exec("COPY (SELECT * FROM copy_t ORDER BY id) TO STDOUT");
  ASSERT_EQ(out.status(), PGRES_COPY_OUT);
  std::string got;
  char* line = nullptr;
  int n = 0;
  while ((n = PQgetCopyData(c.get(), &line, 0)) > 0) {
    got.append(line, static_cast<std::size_t>(n));
    PQfreemem(line);
  }
  Result finished(PQgetResult(c.get()));
  EXPECT_TRUE(finished.ok());
  EXPECT_EQ(got, expected);
}

TEST_F(ProxyTest, CancelReachesTheRightBackend) {
  Conn busy = connect();
  Conn bystander = connect();
  ASSERT_EQ(PQsendQuery(bystander.get(), "SELECT pg_sleep(1.5), 'bystander'"), 1);
  ASSERT_EQ(PQsendQuery(busy.get(), "SELECT pg_sleep(30)"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  PGcancel* cancel = PQgetCancel(busy.get());
  char error[256];
  ASSERT_EQ(PQcancel(cancel, error, sizeof error), 1) << error;
  PQfreeCancel(cancel);
  Result r(PQgetResult(busy.get()));
  EXPECT_EQ(r.sqlstate(), "57014") << r.error();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  while (PGresult* extra = PQgetResult(busy.get())) PQclear(extra);
  Result other(PQgetResult(bystander.get()));
  ASSERT_TRUE(other.ok()) << "the cancel hit another backend: " << other.error();
  EXPECT_EQ(other.value(0, 1), "bystander");
  while (PGresult* extra = PQgetResult(bystander.get())) PQclear(extra);
}

TEST_F(ProxyTest, CancelWithUnknownKeyIsIgnored) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.send(RawClient::u32(16) + RawClient::u32(80877102) + RawClient::u32(1) + RawClient::u32(2)));
  EXPECT_TRUE(raw.closed_by_peer());
  Conn c = connect();
  EXPECT_EQ(c.scalar("SELECT 1"), "1");
}

TEST_F(ProxyTest, ListenNotifyBetweenTwoClients) {
  Conn listener = connect();
  Conn notifier = connect();
  ASSERT_TRUE(listener.exec("LISTEN pgshim_channel").ok());
  ASSERT_TRUE(notifier.exec("NOTIFY pgshim_channel, 'hello'").ok());
  PGnotify* notify = nullptr;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (notify == nullptr && std::chrono::steady_clock::now() < deadline) {
    pollfd p{PQsocket(listener.get()), POLLIN, 0};
    poll(&p, 1, 100);
    PQconsumeInput(listener.get());
    notify = PQnotifies(listener.get());
  }
  ASSERT_NE(notify, nullptr);
  EXPECT_STREQ(notify->relname, "pgshim_channel");
  EXPECT_STREQ(notify->extra, "hello");
  PQfreemem(notify);
}

TEST_F(ProxyTest, NoticeAndParameterStatusPassThrough) {
  Conn c = connect();
  std::string notice;
  PQsetNoticeProcessor(c.get(), [](void* arg, const char* message) {
    *static_cast<std::string*>(arg) += message;
  }, &notice);
  ASSERT_TRUE(c.exec("DO $$ BEGIN RAISE NOTICE 'from the server'; END $$").ok());
  EXPECT_NE(notice.find("from the server"), std::string::npos);
  ASSERT_TRUE(c.exec("SET application_name = 'renamed'").ok());
  EXPECT_STREQ(PQparameterStatus(c.get(), "application_name"), "renamed");
  EXPECT_STREQ(PQparameterStatus(c.get(), "server_encoding"), "UTF8");
}

TEST_F(ProxyTest, StartupParametersPassThrough) {
  Conn c = connect("postgres", "sslmode=disable application_name=shop-v1 options='-c search_path=pg_catalog'");
  EXPECT_EQ(c.scalar("SHOW application_name"), "shop-v1");
  EXPECT_EQ(c.scalar("SHOW search_path"), "pg_catalog");
}

TEST_F(ProxyTest, FunctionCallPassesThrough) {
  Conn c = connect();
  ASSERT_TRUE(c.exec("BEGIN").ok());
  Result lo = c.exec("SELECT lo_create(0)");
  ASSERT_TRUE(lo.ok()) << lo.error();
  const Oid oid = static_cast<Oid>(std::stoul(lo.value()));
  const int fd = lo_open(c.get(), oid, 0x00020000 | 0x00040000);  // INV_WRITE | INV_READ
  ASSERT_GE(fd, 0) << c.error();
  ASSERT_EQ(lo_write(c.get(), fd, "abc", 3), 3);  // lo_write uses the FunctionCall message
  ASSERT_EQ(lo_lseek(c.get(), fd, 0, SEEK_SET), 0);
  char buf[4] = {};
  ASSERT_EQ(lo_read(c.get(), fd, buf, 3), 3);
  EXPECT_STREQ(buf, "abc");
  ASSERT_TRUE(c.exec("ROLLBACK").ok());
}

TEST_F(ProxyTest, UnixSocketListener) {
  Conn c(fmt::format("host={} port={} dbname=postgres user=postgres", proxy_->socket_dir(), proxy_->port()));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.scalar("SELECT 7"), "7");
}

TEST_F(ProxyTest, ScramWithRightAndWrongPassword) {
  Conn good = connect("scram_user", "sslmode=disable password=scram_pass");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.scalar("SELECT current_user"), "scram_user");
  Conn bad(proxy_->dsn("postgres", "scram_user", "sslmode=disable password=wrong"));
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("password authentication failed"), std::string::npos) << bad.error();
}

TEST_F(ProxyTest, Md5AndCleartextPasswords) {
  Conn md5 = connect("md5_user", "sslmode=disable password=md5_pass");
  EXPECT_EQ(md5.scalar("SELECT current_user"), "md5_user");
  Conn bad(proxy_->dsn("postgres", "md5_user", "sslmode=disable password=nope"));
  EXPECT_FALSE(bad.ok());
  Conn clear = connect("clear_user", "sslmode=disable password=clear_pass");
  EXPECT_EQ(clear.scalar("SELECT current_user"), "clear_user");
}

TEST_F(ProxyTest, SslRequestAnsweredNoWithoutCertificate) {
  Conn c = connect("postgres", "sslmode=prefer");
  EXPECT_EQ(PQsslInUse(c.get()), 0);
  Conn required(proxy_->dsn("postgres", "postgres", "sslmode=require"));
  EXPECT_FALSE(required.ok());
}

TEST_F(ProxyTest, GssEncRequestAnsweredNo) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.send(RawClient::u32(8) + RawClient::u32(80877104)));
  EXPECT_EQ(raw.read_bytes(1), "N");
  EXPECT_TRUE(raw.startup("postgres", "postgres"));
}

TEST_F(ProxyTest, MalformedMessageClosesOnlyThatConnection) {
  Conn other = connect();
  ASSERT_TRUE(other.exec("BEGIN").ok());
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres"));
  ASSERT_TRUE(raw.send(std::string("Q") + RawClient::u32(3)));  // a length below 4
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, 'E');
  EXPECT_EQ(error->error_field('C'), "08P01");
  EXPECT_TRUE(raw.closed_by_peer());
  EXPECT_EQ(other.scalar("SELECT 'unaffected'"), "unaffected");
  EXPECT_TRUE(other.exec("COMMIT").ok());
}

TEST_F(ProxyTest, QueryWithoutTerminatorIsMalformed) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres"));
  ASSERT_TRUE(raw.send(RawClient::message('Q', "SELECT 1")));  // no NUL
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error_field('C'), "08P01");
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST_F(ProxyTest, BindWithCountBeyondBodyIsMalformed) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres"));
  // portal "", statement "", 0 format codes, 5 parameters announced, none present.
  const std::string body = std::string("\0\0", 2) + std::string("\0\0", 2) + std::string("\0\5", 2);
  ASSERT_TRUE(raw.send(RawClient::message('B', body)));
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error_field('C'), "08P01");
}

TEST_F(ProxyTest, UnknownMessageTypeIsMalformed) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres"));
  ASSERT_TRUE(raw.send(RawClient::message('!', "x")));
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error_field('C'), "08P01");
}

TEST_F(ProxyTest, OversizedStartupPacketRefused) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.send(RawClient::u32(20000) + RawClient::u32(196608)));
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->type, 'E');
  EXPECT_EQ(error->error_field('S'), "FATAL");
  EXPECT_EQ(error->error_field('C'), "08P01");
}

TEST_F(ProxyTest, BadProtocolVersionRefused) {
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.send(RawClient::startup_packet({{"user", "postgres"}}, 2 << 16)));
  auto error = raw.read();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->error_field('S'), "FATAL");
  EXPECT_EQ(error->error_field('C'), "0A000");
}

TEST_F(ProxyTest, SilentClientTimesOut) {
  RawClient raw(proxy_->port());
  const auto started = std::chrono::steady_clock::now();
  auto error = raw.read(std::chrono::seconds(10));
  ASSERT_TRUE(error.has_value()) << "no FATAL after the startup timeout";
  EXPECT_EQ(error->error_field('S'), "FATAL");
  EXPECT_NE(error->error_field('M').find("no startup packet"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(raw.closed_by_peer());
}

TEST_F(ProxyTest, ClientVanishingMidTransactionRollsBack) {
  {
    Conn c = connect("postgres", "sslmode=disable application_name=vanishing");
    ASSERT_TRUE(c.exec("BEGIN").ok());
    ASSERT_TRUE(c.exec("INSERT INTO items VALUES (9001, 'never committed')").ok());
    // Close the socket without a Terminate message, as a killed process would.
    shutdown(PQsocket(c.get()), SHUT_RDWR);
  }
  Conn check(PgServer::shared().dsn());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (check.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vanishing'") != "0" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(check.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'vanishing'"), "0");
  EXPECT_EQ(check.scalar("SELECT count(*) FROM items WHERE id = 9001"), "0");
}

TEST_F(ProxyTest, PgbenchSelectOnlyHasNoFailures) {
  const std::string bin = "/usr/lib/postgresql/15/bin/pgbench";
  const std::string log = proxy_->dir() + "/pgbench.log";
  PgServer::shared().create_database("bench");
  ASSERT_EQ(run({bin, "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", std::to_string(proxy_->port()),
                 "-U", "postgres", "bench"}, log), 0) << read_file(log);
  ASSERT_EQ(run({bin, "-S", "-c", "8", "-j", "2", "-T", "5", "-h", "127.0.0.1", "-p",
                 std::to_string(proxy_->port()), "-U", "postgres", "bench"}, log), 0) << read_file(log);
  const std::string output = read_file(log);
  EXPECT_NE(output.find("number of failed transactions: 0 (0.000%)"), std::string::npos) << output;
  EXPECT_NE(output.find("tps = "), std::string::npos) << output;
}

// The suite above runs with the sends of each worker batched through io_uring
// (the default); it must not have fallen back to one send() per message.
TEST_F(ProxyTest, SendsAreBatchedThroughIoUring) {
  Conn conn = connect();
  EXPECT_EQ(conn.exec("SELECT 1").value(), "1");
  EXPECT_EQ(proxy_->log_count("io_uring"), 0u) << proxy_->log();
}

// With --batch-sends off each message is a send() of its own: the same traffic passes.
TEST_F(ProxyTest, PgbenchWithUnbatchedSendsHasNoFailures) {
  ProxyProcess unbatched(PgServer::shared(), {.extra_args = {"--upstream-tls", "disable", "--batch-sends", "off"}});
  const std::string bin = "/usr/lib/postgresql/15/bin/pgbench";
  const std::string log = unbatched.dir() + "/pgbench.log";
  PgServer::shared().create_database("bench_unbatched");
  ASSERT_EQ(run({bin, "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", std::to_string(unbatched.port()),
                 "-U", "postgres", "bench_unbatched"}, log), 0) << read_file(log);
  for (const char* mode : {"simple", "prepared"}) {
    ASSERT_EQ(run({bin, "-M", mode, "-c", "8", "-j", "2", "-T", "2", "-h", "127.0.0.1", "-p",
                   std::to_string(unbatched.port()), "-U", "postgres", "bench_unbatched"}, log), 0)
        << read_file(log);
    const std::string output = read_file(log);
    EXPECT_NE(output.find("number of failed transactions: 0 (0.000%)"), std::string::npos) << mode << output;
  }
}

}  // namespace
}  // namespace pgshim::testing
