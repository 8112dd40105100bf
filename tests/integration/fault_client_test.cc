// Hostile and unlucky clients against a real PostgreSQL through pgshim: clients
// that vanish in the middle of a query, of a COPY, of a message and of a TLS
// handshake, one that sends its startup packet a byte a second, and length
// fields that say 2 GB. Each test checks what the client saw, what was left on
// the server, and that the proxy still serves a new client.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
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

constexpr auto kStartupTimeout = 2000ms;  // set through the configuration file
constexpr auto kGone = 10s;               // how long a fault's leftovers may take to go
constexpr std::uint32_t kSslRequestCode = 80877103;
constexpr std::uint32_t kTwoGigabytes = 0x7fffffff;

class FaultClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& pg = PgServer::shared();
    pg.exec("CREATE TABLE IF NOT EXISTS vanish_copy (id int, v text);"
            "CREATE TABLE IF NOT EXISTS vanish_commit (id int)");
    config_ = new std::string(std::filesystem::temp_directory_path() /
                              fmt::format("pgshim-fault-client-{}.yaml", getpid()));
    std::ofstream(*config_) << fmt::format("startup_timeout_ms: {}\nupstream_tls: disable\n",
                                           kStartupTimeout.count());
    proxy_ = new ProxyProcess(pg, {.extra_args = {"--config", *config_}, .tls = true});
    fds_ = settled_open_fds(proxy_->pid());  // before any client: what each test must come back to
  }
  static void TearDownTestSuite() {
    delete proxy_;
    proxy_ = nullptr;
    std::filesystem::remove(*config_);
    delete config_;
  }
  static std::string dsn(std::string_view application_name) {
    return proxy_->dsn("postgres", "postgres", fmt::format("sslmode=disable application_name={}", application_name));
  }
  static ProxyProcess* proxy_;
  static std::string* config_;
  static int fds_;
};
ProxyProcess* FaultClientTest::proxy_ = nullptr;
std::string* FaultClientTest::config_ = nullptr;
int FaultClientTest::fds_ = 0;

// Waits until a backend of `application_name` runs a statement.
bool wait_until_active(const PgServer& pg, std::string_view application_name) {
  Conn c(pg.dsn());
  const auto deadline = Clock::now() + kGone;
  while (Clock::now() < deadline) {
    if (c.scalar(fmt::format("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{}' "
                             "AND state = 'active'",
                             application_name)) == "1") {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

// After a client of `application_name` vanished: its backend is gone, and
// nothing it sent reached `table`.
void expect_gone_with_nothing_committed(const PgServer& pg, std::string_view application_name,
                                        std::string_view table) {
  EXPECT_EQ(wait_for_client_backends(pg, 0, kGone, application_name), 0);
  Conn check(pg.dsn());
  EXPECT_EQ(check.scalar(fmt::format("SELECT count(*) FROM {}", table)), "0");
}

std::string ssl_request() { return RawClient::u32(8) + RawClient::u32(kSslRequestCode); }

TEST_F(FaultClientTest, ClientVanishingDuringAQueryEndsItsBackend) {
  auto& pg = PgServer::shared();
  const int backends = client_backends(pg);
  const std::size_t cancels = proxy_->log_count("cancelling it");
  const auto started = Clock::now();
  {
    Conn c(dsn("vanish_sleep"));
    ASSERT_TRUE(c.ok()) << c.error();
    ASSERT_EQ(PQsendQuery(c.get(), "SELECT pg_sleep(60)"), 1);
    ASSERT_TRUE(wait_until_active(pg, "vanish_sleep"));
    // The socket goes without a Terminate, as a killed process's would.
    shutdown(PQsocket(c.get()), SHUT_RDWR);
  }
  // Without a cancel the backend would sleep on for a minute with nobody to answer.
  EXPECT_EQ(wait_for_client_backends(pg, 0, kGone, "vanish_sleep"), 0);
  EXPECT_EQ(wait_for_client_backends(pg, backends, kGone), backends);
  EXPECT_LT(Clock::now() - started, 30s);
  EXPECT_GT(proxy_->log_count("cancelling it"), cancels) << tail(proxy_->log());
  EXPECT_EQ(wait_for_open_fds(proxy_->pid(), fds_, kGone), fds_);
  expect_serves_new_client(*proxy_);
}

TEST_F(FaultClientTest, ClientVanishingMidCopyInCommitsNothing) {
  auto& pg = PgServer::shared();
  pg.exec("TRUNCATE vanish_copy");
  // At a message boundary, and half way through a CopyData message.
  for (const bool mid_message : {false, true}) {
    SCOPED_TRACE(mid_message ? "mid message" : "at a boundary");
    RawClient raw(proxy_->port());
    ASSERT_TRUE(raw.startup("postgres", "postgres", "vanish_copy"));
    ASSERT_TRUE(raw.send(RawClient::message('Q', std::string("COPY vanish_copy FROM STDIN") + '\0')));
    auto answer = raw.read();
    ASSERT_TRUE(answer.has_value());
    ASSERT_EQ(answer->type, 'G') << answer->error_field('M');
    std::string rows;
    for (int i = 0; i < 1000; ++i) rows += RawClient::message('d', fmt::format("{}\trow {}\n", i, i));
    if (mid_message) rows += std::string("d") + RawClient::u32(1004) + "1000\tpart";
    ASSERT_TRUE(raw.send(rows));
    ASSERT_TRUE(wait_until_active(pg, "vanish_copy"));
    raw.vanish();
    expect_gone_with_nothing_committed(pg, "vanish_copy", "vanish_copy");
  }
  expect_serves_new_client(*proxy_);
}

// A client that goes away after part of a message must not have that message
// completed for it: here the message is the Execute of a COMMIT, and the bytes
// that would complete it are those of the Terminate a proxy sends on its way out.
TEST_F(FaultClientTest, ClientVanishingMidMessageCommitsNothing) {
  auto& pg = PgServer::shared();
  pg.exec("TRUNCATE vanish_commit");
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres", "vanish_commit"));
  ASSERT_TRUE(raw.simple_query("BEGIN"));
  ASSERT_TRUE(raw.simple_query("INSERT INTO vanish_commit VALUES (1)"));
  const std::string parse = RawClient::message('P', std::string("\0COMMIT\0\0\0", 10));
  const std::string bind = RawClient::message('B', std::string("\0\0\0\0\0\0\0\0", 8));
  const std::string execute = RawClient::message('E', std::string("\0", 1) + RawClient::u32(0));
  ASSERT_TRUE(raw.send(parse + bind + execute.substr(0, 7)));  // 3 bytes of the row limit missing
  std::this_thread::sleep_for(200ms);                           // forwarded before the end
  raw.vanish();
  expect_gone_with_nothing_committed(pg, "vanish_commit", "vanish_commit");
  expect_serves_new_client(*proxy_);
}

// The other direction: a backend that ends in the middle of a message to the
// client (terminated while it streams a 64 MiB row) leaves the client with the
// bytes it sent and the end of the connection, never an ErrorResponse glued
// into the row, where it would read as data.
TEST_F(FaultClientTest, ServerEndingMidMessageAddsNothingToIt) {
  auto& pg = PgServer::shared();
  RawClient raw(proxy_->port());
  ASSERT_TRUE(raw.startup("postgres", "postgres", "cut_row"));
  ASSERT_TRUE(raw.send(RawClient::message('Q', std::string("SELECT repeat('x', 64 * 1024 * 1024)") + '\0')));
  auto description = raw.read();
  ASSERT_TRUE(description.has_value());
  ASSERT_EQ(description->type, 'T');
  auto header = raw.read_bytes(5);
  ASSERT_TRUE(header.has_value());
  ASSERT_EQ((*header)[0], 'D');
  // Not reading on: the backend blocks in the middle of the row, and is terminated there.
  ASSERT_TRUE(wait_until_active(pg, "cut_row"));
  Conn admin(pg.dsn());
  ASSERT_EQ(admin.scalar("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cut_row'"),
            "t");
  auto rest = raw.read_until_closed(128u << 20, kGone);
  ASSERT_TRUE(rest.has_value()) << "the connection stayed open; the backend: "
                                << admin.scalar("SELECT string_agg(state || ' ' || wait_event, ', ') FROM "
                                                "pg_stat_activity WHERE application_name = 'cut_row'")
                                << "\n" << tail(proxy_->log(), 2000);
  ASSERT_GT(rest->size(), 6u);
  EXPECT_LT(rest->size(), 64u << 20) << "the whole row arrived: the server was not cut mid-message";
  // Column count and value length, then nothing but the value's bytes.
  EXPECT_EQ(rest->find_first_not_of('x', 6), std::string::npos)
      << "foreign bytes in the row: " << rest->substr(rest->find_first_not_of('x', 6), 80);
  EXPECT_EQ(wait_for_client_backends(pg, 0, kGone, "cut_row"), 0);
  expect_serves_new_client(*proxy_);
}

TEST_F(FaultClientTest, ClientVanishingMidTlsHandshake) {
  const std::string hello = tls_client_hello();
  ASSERT_GT(hello.size(), 100u);
  const std::size_t failures = proxy_->log_count("TLS handshake with");
  {
    SCOPED_TRACE("half a ClientHello, then gone");
    RawClient raw(proxy_->port());
    ASSERT_TRUE(raw.send(ssl_request()));
    ASSERT_EQ(raw.read_bytes(1), "S");
    ASSERT_TRUE(raw.send(hello.substr(0, hello.size() / 2)));
    raw.vanish();
  }
  {
    SCOPED_TRACE("a whole ClientHello, gone once the server answered");
    RawClient raw(proxy_->port());
    ASSERT_TRUE(raw.send(ssl_request()));
    ASSERT_EQ(raw.read_bytes(1), "S");
    ASSERT_TRUE(raw.send(hello));
    auto record = raw.read_bytes(5);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ((*record)[0], 0x16) << "a TLS handshake record";
    raw.vanish();
  }
  EXPECT_TRUE(proxy_->wait_for_log("TLS handshake with", failures + 1, kGone)) << tail(proxy_->log());
  {
    SCOPED_TRACE("half a ClientHello, then silence");
    RawClient raw(proxy_->port());
    ASSERT_TRUE(raw.send(ssl_request()));
    ASSERT_EQ(raw.read_bytes(1), "S");
    ASSERT_TRUE(raw.send(hello.substr(0, hello.size() / 2)));
    const auto started = Clock::now();
    EXPECT_TRUE(raw.closed_by_peer(kGone)) << "the startup timeout covers the handshake";
    EXPECT_GE(Clock::now() - started, kStartupTimeout - 500ms);
  }
  EXPECT_EQ(wait_for_open_fds(proxy_->pid(), fds_, kGone), fds_);
  Conn tls(proxy_->dsn("postgres", "postgres", "sslmode=require"));
  ASSERT_TRUE(tls.ok()) << tls.error();
  EXPECT_EQ(tls.scalar("SELECT 'tls after the faults'"), "tls after the faults");
  expect_serves_new_client(*proxy_);
}

// Runs queries (on a held connection, and on a new one every few) until told to
// stop, counting failures: the clients a fault must not touch.
class Bystander {
 public:
  explicit Bystander(const ProxyProcess& proxy) : thread_([this, &proxy] { run(proxy); }) {}
  ~Bystander() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int succeeded() const { return succeeded_; }
  int failed() const { return failed_; }
  const std::string& first_error() const { return first_error_; }

 private:
  void run(const ProxyProcess& proxy) {
    Conn held(proxy.dsn());
    for (int i = 0; i < 600 && !stop_; ++i) {
      std::optional<Conn> fresh;
      if (i % 5 == 0) fresh.emplace(proxy.dsn());
      Conn& c = fresh ? *fresh : held;
      Result r = c.exec("SELECT 1");
      if (r.ok() && r.value() == "1") {
        ++succeeded_;
      } else if (failed_++ == 0) {
        first_error_ = c.error() + r.error();
      }
      std::this_thread::sleep_for(50ms);
    }
  }
  std::atomic<bool> stop_{false};
  std::atomic<int> succeeded_{0};
  std::atomic<int> failed_{0};
  std::string first_error_;
  std::thread thread_;
};

TEST_F(FaultClientTest, StartupSentOneBytePerSecondIsTimedOut) {
  Bystander others(*proxy_);
  const std::string packet = RawClient::startup_packet({{"user", "postgres"}, {"database", "postgres"}});
  struct Case {
    const char* name;
    std::size_t sent_at_once;
    const char* message;
  };
  for (const Case& c : {Case{"every byte slowly", 0, "no startup packet received within 2000 ms"},
                        Case{"the length at once, then slowly", 4, "timeout while reading the startup packet"}}) {
    SCOPED_TRACE(c.name);
    RawClient raw(proxy_->port());
    const auto started = Clock::now();
    std::size_t sent = c.sent_at_once;
    ASSERT_TRUE(raw.send(packet.substr(0, sent)));
    std::optional<RawMessage> answer;
    for (int second = 0; second < 10 && !answer && sent < packet.size(); ++second) {
      if (!raw.send(packet.substr(sent, 1))) break;
      ++sent;
      answer = raw.read(1s);
    }
    const auto elapsed = Clock::now() - started;
    ASSERT_TRUE(answer.has_value()) << "no answer after " << sent << " bytes";
    EXPECT_EQ(answer->type, 'E');
    EXPECT_EQ(answer->error_field('S'), "FATAL");
    EXPECT_EQ(answer->error_field('C'), "08P01");
    EXPECT_NE(answer->error_field('M').find(c.message), std::string::npos) << answer->error_field('M');
    EXPECT_GE(elapsed, kStartupTimeout - 200ms);
    EXPECT_LT(elapsed, kStartupTimeout + 3s);
    EXPECT_LT(sent, packet.size());
    EXPECT_TRUE(raw.closed_by_peer());
  }
  others.stop();
  EXPECT_EQ(others.failed(), 0) << others.first_error();
  EXPECT_GT(others.succeeded(), 20);
  expect_serves_new_client(*proxy_);
}

TEST_F(FaultClientTest, LengthOfTwoGigabytesIsRefused) {
  Conn bystander(proxy_->dsn());
  ASSERT_TRUE(bystander.exec("BEGIN").ok());
  const long hwm_before = process_memory(proxy_->pid()).hwm_kib;
  const std::string huge = RawClient::u32(kTwoGigabytes);
  struct Case {
    const char* name;
    const char* user;  // "" = no startup first
    std::string bytes;
    const char* message;
  };
  const Case cases[] = {
      {"in the startup packet", "", huge + RawClient::u32(196608) + std::string("user\0postgres\0", 14),
       "invalid startup packet length 2147483647"},
      {"a Query", "postgres", "Q" + huge + "SELECT 1", "message length 2147483647 for message type 'Q'"},
      {"a CopyData", "postgres", "d" + huge + "rows", "message length 2147483647 for message type 'd'"},
      {"a password message", "scram_user", "p" + huge + "n,,n=", "message length 2147483647 for message type 'p'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawClient raw(proxy_->port());
    if (std::string_view(c.user) == "scram_user") {
      // Authentication starts: the server asks for SASL, the answer is the hostile message.
      ASSERT_TRUE(raw.send(RawClient::startup_packet({{"user", c.user}, {"database", "postgres"}})));
      auto sasl = raw.read();
      ASSERT_TRUE(sasl.has_value());
      ASSERT_EQ(sasl->type, 'R');
    } else if (*c.user != '\0') {
      ASSERT_TRUE(raw.startup(c.user, "postgres"));
    }
    ASSERT_TRUE(raw.send(c.bytes));
    auto answer = raw.read();
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->type, 'E');
    EXPECT_EQ(answer->error_field('S'), "FATAL");
    EXPECT_EQ(answer->error_field('C'), "08P01");
    EXPECT_NE(answer->error_field('M').find(c.message), std::string::npos) << answer->error_field('M');
    EXPECT_TRUE(raw.closed_by_peer());
  }
  EXPECT_EQ(bystander.scalar("SELECT 'unaffected'"), "unaffected");
  EXPECT_TRUE(bystander.exec("COMMIT").ok());
  // Nothing was allocated for the announced length.
  EXPECT_LT(process_memory(proxy_->pid()).hwm_kib - hwm_before, 16 * 1024);
  expect_serves_new_client(*proxy_);
}

// A client that sends its last message and the end of its stream together (one
// TCP segment, one readiness event): the proxy must see the end as well as the
// message, or the session and its backend stay open for nobody. Last in the file:
// a session it leaves behind would skew the descriptor counts of the tests after it.
TEST_F(FaultClientTest, ClientEndingWithItsLastMessageEndsItsBackend) {
  auto& pg = PgServer::shared();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(fmt::format("attempt {}", i + 1));
    RawClient raw(proxy_->port());
    ASSERT_TRUE(raw.startup("postgres", "postgres", "last_words"));
    ASSERT_TRUE(raw.send_then_end(RawClient::message('Q', std::string("SELECT 1") + '\0')));
    ASSERT_TRUE(raw.closed_by_peer(kGone)) << "the proxy did not see the end of the client's stream";
    EXPECT_EQ(wait_for_client_backends(pg, 0, kGone, "last_words"), 0);
  }
  EXPECT_EQ(wait_for_open_fds(proxy_->pid(), fds_, kGone), fds_);
  expect_serves_new_client(*proxy_);
}

}  // namespace
}  // namespace pgshim::testing
