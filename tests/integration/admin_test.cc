// The admin HTTP listener: /metrics counts what the proxy did, /healthz answers,
// /rules shows the rules in force and what the schema says about them, and bad
// requests get an error without disturbing the proxy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"
#include "tests/integration/harness/proxy_process.h"

namespace pgshim::testing {
namespace {

struct HttpReply {
  int status = 0;
  std::string body;
};

// Sends `request` as is to 127.0.0.1:port and reads until the server closes.
HttpReply http_exchange(int port, const std::string& request) {
  HttpReply reply;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return reply;
  }
  std::string raw;
  char chunk[4096];
  for (ssize_t n; (n = read(fd, chunk, sizeof chunk)) > 0;) raw.append(chunk, static_cast<std::size_t>(n));
  close(fd);
  if (raw.starts_with("HTTP/1.1 ") && raw.size() >= 12) reply.status = std::stoi(raw.substr(9, 3));
  if (const auto end = raw.find("\r\n\r\n"); end != std::string::npos) reply.body = raw.substr(end + 4);
  return reply;
}

HttpReply http_get(int port, const std::string& path) {
  return http_exchange(port, fmt::format("GET {} HTTP/1.1\r\nHost: localhost\r\n\r\n", path));
}

// The value of the sample line `name` (with its labels) in a /metrics body, or -1.
double sample(const std::string& metrics, const std::string& name) {
  const auto at = metrics.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics.substr(at + name.size() + 2));
}

std::string rename_rule(std::string_view phase) {
  return fmt::format(R"(migration: admin_rename
database: admin_db
phase: {}
versions:
  new: {{ application_name: "shop-v2*" }}
  default: old
changes:
  - rename_column:
      table: users
      from: fullname
      to: display_name
)", phase);
}

class AdminTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto& pg = PgServer::shared();
    pg.create_database("admin_db");
    pg.exec("CREATE TABLE users (id int PRIMARY KEY, fullname text); INSERT INTO users VALUES (1, 'Ada')",
            "admin_db");
    rules_dir_ = new std::string(std::filesystem::temp_directory_path() / fmt::format("pgshim-admin-{}", getpid()));
    std::filesystem::create_directories(*rules_dir_);
    write_rule(rename_rule("planned"));
    admin_port_ = free_port();
    proxy_ = new ProxyProcess(pg, {.extra_args = {"--upstream-tls", "disable", "--admin",
                                                  fmt::format("127.0.0.1:{}", admin_port_)},
                                   .rules_dir = *rules_dir_});
    ASSERT_TRUE(wait_for_port(admin_port_, std::chrono::seconds(10)));
  }
  static void TearDownTestSuite() {
    delete proxy_;
    std::filesystem::remove_all(*rules_dir_);
    delete rules_dir_;
  }
  static void write_rule(const std::string& text) {
    std::ofstream(*rules_dir_ + "/10_rename.yaml") << text;
  }
  static void reload() {
    ASSERT_EQ(kill(proxy_->pid(), SIGHUP), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  static std::string new_client_dsn() {
    return proxy_->dsn("admin_db", "postgres", "sslmode=disable application_name=shop-v2");
  }

  static inline std::string* rules_dir_ = nullptr;
  static inline ProxyProcess* proxy_ = nullptr;
  static inline int admin_port_ = 0;
};

TEST_F(AdminTest, MetricsCountConnectionsQueriesAndRewritesByChange) {
  const HttpReply before = http_get(admin_port_, "/metrics");
  ASSERT_EQ(before.status, 200) << before.body;
  const double queries_before = sample(before.body, "pgshim_queries_total");
  ASSERT_GE(queries_before, 0) << before.body;
  const std::string rewrites =
      R"(pgshim_rewrites_total{migration="admin_rename",change="rename_column",target="users.fullname"})";
  const double rewrites_before = std::max(0.0, sample(before.body, rewrites));

  Conn c(new_client_dsn());
  ASSERT_TRUE(c.ok()) << c.error();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.scalar("SELECT display_name FROM users WHERE id = 1"), "Ada");
  EXPECT_EQ(c.scalar("SELECT 40 + 2"), "42");  // not a rule table: no rewrite

  const HttpReply after = http_get(admin_port_, "/metrics");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(sample(after.body, "pgshim_client_connections"), 1) << after.body;
  EXPECT_GE(sample(after.body, "pgshim_client_connections_total"), 1);
  EXPECT_GE(sample(after.body, "pgshim_queries_total") - queries_before, 4) << after.body;
  EXPECT_EQ(sample(after.body, rewrites) - rewrites_before, 3) << after.body;
  EXPECT_GE(sample(after.body, "pgshim_rewrite_cache_hits_total"), 2) << after.body;
  EXPECT_GE(sample(after.body, "pgshim_rewrite_duration_seconds_count"), 3) << after.body;
  EXPECT_EQ(sample(after.body, "pgshim_rewrite_duration_seconds_bucket{le=\"+Inf\"}"),
            sample(after.body, "pgshim_rewrite_duration_seconds_count"));
  EXPECT_NE(after.body.find("# TYPE pgshim_rewrite_duration_seconds histogram"), std::string::npos);
}

TEST_F(AdminTest, HealthzAnswersAndUnknownOrBadRequestsGetErrors) {
  const HttpReply health = http_get(admin_port_, "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, "ok\n");
  EXPECT_EQ(http_get(admin_port_, "/nope").status, 404);
  EXPECT_EQ(http_exchange(admin_port_, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").status, 405);
  EXPECT_EQ(http_exchange(admin_port_, "this is not http\r\n\r\n").status, 400);
  const std::string huge_header = "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(http_exchange(admin_port_, huge_header).status, 400);
  // The proxy and the listener go on serving.
  Conn c(proxy_->dsn("admin_db"));
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c.scalar("SELECT fullname FROM users WHERE id = 1"), "Ada");
  EXPECT_EQ(http_get(admin_port_, "/healthz").status, 200);
}

TEST_F(AdminTest, RulesShowThePhaseInForceAndWhatTheSchemaLacks) {
  {
    Conn c(new_client_dsn());  // reads the schema of admin_db
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c.scalar("SELECT display_name FROM users WHERE id = 1"), "Ada");
  }
  auto rules = nlohmann::json::parse(http_get(admin_port_, "/rules").body);
  ASSERT_EQ(rules["migrations"].size(), 1U) << rules.dump();
  const auto& migration = rules["migrations"][0];
  EXPECT_EQ(migration["name"], "admin_rename");
  EXPECT_EQ(migration["phase"], "planned");
  EXPECT_EQ(migration["database"], "admin_db");
  EXPECT_EQ(migration["new_selector"]["application_name"], "shop-v2*");
  EXPECT_EQ(migration["changes"][0]["kind"], "rename_column");
  EXPECT_EQ(migration["changes"][0]["to"], "display_name");
  ASSERT_EQ(rules["databases"].size(), 1U) << rules.dump();
  EXPECT_EQ(rules["databases"][0]["name"], "admin_db");
  EXPECT_TRUE(rules["databases"][0]["problems"].empty()) << rules.dump();
  const auto version = rules["version"].get<std::uint64_t>();

  // Expanded without the DDL: the column the phase needs is missing.
  write_rule(rename_rule("expanded"));
  reload();
  {
    Conn c(new_client_dsn());
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_FALSE(c.exec("SELECT display_name FROM users WHERE id = 1").ok());
  }
  rules = nlohmann::json::parse(http_get(admin_port_, "/rules").body);
  EXPECT_EQ(rules["version"].get<std::uint64_t>(), version + 1);
  EXPECT_EQ(rules["migrations"][0]["phase"], "expanded");
  ASSERT_EQ(rules["databases"][0]["problems"].size(), 1U) << rules.dump();
  EXPECT_NE(rules["databases"][0]["problems"][0]["message"].get<std::string>().find("display_name"),
            std::string::npos) << rules.dump();

  // A broken file: the rules in force stay, /rules and /metrics say why.
  const double failures_before = sample(http_get(admin_port_, "/metrics").body, "pgshim_reload_failures_total");
  write_rule("migration: [broken\n");
  reload();
  rules = nlohmann::json::parse(http_get(admin_port_, "/rules").body);
  EXPECT_EQ(rules["version"].get<std::uint64_t>(), version + 1);
  EXPECT_FALSE(rules["last_reload_errors"].empty()) << rules.dump();
  EXPECT_EQ(sample(http_get(admin_port_, "/metrics").body, "pgshim_reload_failures_total"), failures_before + 1);

  write_rule(rename_rule("planned"));
  reload();
  rules = nlohmann::json::parse(http_get(admin_port_, "/rules").body);
  EXPECT_EQ(rules["migrations"][0]["phase"], "planned");
  EXPECT_TRUE(rules["last_reload_errors"].empty()) << rules.dump();
}

}  // namespace
}  // namespace pgshim::testing
