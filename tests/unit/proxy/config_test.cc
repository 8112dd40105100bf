#include "proxy/config.h"

#include <gtest/gtest.h>

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace pgshim::proxy {
namespace {

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/pgshim-config-XXXXXX";
  const int fd = mkstemp(path);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(Endpoint, ParsesHostPortV6AndUnixForms) {
  std::string error;
  auto tcp = parse_endpoint("127.0.0.1:6432", error);
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->host, "127.0.0.1");
  EXPECT_EQ(tcp->port, 6432);
  auto v6 = parse_endpoint("[::1]:5432", error);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  auto dir = parse_endpoint("/var/run/postgresql:5433", error);
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->unix_path, "/var/run/postgresql/.s.PGSQL.5433");
  auto file = parse_endpoint("/tmp/.s.PGSQL.5432", error);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->unix_path, "/tmp/.s.PGSQL.5432");
}

TEST(Endpoint, RejectsBadPorts) {
  std::string error;
  EXPECT_FALSE(parse_endpoint("localhost", error));
  EXPECT_FALSE(parse_endpoint("localhost:0", error));
  EXPECT_FALSE(parse_endpoint("localhost:70000", error));
  EXPECT_FALSE(parse_endpoint("localhost:12ab", error));
  EXPECT_NE(error.find("invalid port"), std::string::npos);
}

TEST(ConfigFile, LoadsTheExample) {
  Config c;
  std::string error;
  ASSERT_TRUE(load_config_file(std::string(PGSHIM_SOURCE_DIR) + "/examples/pgshim.yaml", c, error))
      << error;
  ASSERT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].port, 6432);
  EXPECT_EQ(c.upstream.host, "postgres");
  EXPECT_EQ(c.upstream_tls, UpstreamTls::kPrefer);
  EXPECT_EQ(c.startup_timeout.count(), 10000);
  EXPECT_EQ(c.client_idle_timeout.count(), 0);
  EXPECT_EQ(c.idle_transaction_timeout.count(), 0);
}

TEST(ConfigFile, IdleTimeoutsAreOffByDefaultAndRead) {
  Config defaults;
  EXPECT_EQ(defaults.client_idle_timeout.count(), 0);
  EXPECT_EQ(defaults.idle_transaction_timeout.count(), 0);
  const auto path = write_temp("client_idle_timeout_ms: 60000\nidle_transaction_timeout_ms: 5000\n");
  Config c;
  std::string error;
  ASSERT_TRUE(load_config_file(path, c, error)) << error;
  EXPECT_EQ(c.client_idle_timeout.count(), 60000);
  EXPECT_EQ(c.idle_transaction_timeout.count(), 5000);
  std::remove(path.c_str());
}

TEST(ConfigFile, SendsAreBatchedByDefaultAndTheFileCanSayNot) {
  EXPECT_TRUE(Config{}.batch_sends);
  const auto path = write_temp("batch_sends: false\n");
  Config c;
  std::string error;
  ASSERT_TRUE(load_config_file(path, c, error)) << error;
  EXPECT_FALSE(c.batch_sends);
  std::remove(path.c_str());
}

TEST(ConfigFile, UnknownKeyNamesFileLineAndColumn) {
  const auto path = write_temp("listen: 127.0.0.1:1\nupstrem: x:1\n");
  Config c;
  std::string error;
  EXPECT_FALSE(load_config_file(path, c, error));
  EXPECT_NE(error.find(path + ":2:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown setting 'upstrem'"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(ConfigFile, BadUpstreamTlsMode) {
  const auto path = write_temp("upstream_tls: sometimes\n");
  Config c;
  std::string error;
  EXPECT_FALSE(load_config_file(path, c, error));
  EXPECT_NE(error.find("disable, prefer, require, verify-full"), std::string::npos) << error;
  std::remove(path.c_str());
}

TEST(ConfigFile, ListOfListeners) {
  const auto path = write_temp("listen: [127.0.0.1:1, \"[::1]:2\"]\nupstream: db:5432\n");
  Config c;
  std::string error;
  ASSERT_TRUE(load_config_file(path, c, error)) << error;
  EXPECT_EQ(c.listen.size(), 2u);
  EXPECT_EQ(validate_config(c), "");
  std::remove(path.c_str());
}

TEST(ConfigValidation, NeedsListenerAndUpstreamAndBothTlsFiles) {
  Config c;
  EXPECT_NE(validate_config(c), "");
  std::string error;
  c.listen.push_back(*parse_endpoint("127.0.0.1:1", error));
  EXPECT_NE(validate_config(c).find("upstream"), std::string::npos);
  c.upstream = *parse_endpoint("127.0.0.1:2", error);
  EXPECT_EQ(validate_config(c), "");
  c.tls_cert = "cert.pem";
  EXPECT_NE(validate_config(c).find("go together"), std::string::npos);
}

TEST(ConfigValidation, AdminListenerIsTcpHostAndPort) {
  Config c;
  std::string error;
  c.listen.push_back(*parse_endpoint("127.0.0.1:1", error));
  c.upstream = *parse_endpoint("127.0.0.1:2", error);
  c.admin = "127.0.0.1:9930";
  EXPECT_EQ(validate_config(c), "");
  c.admin = "127.0.0.1";
  EXPECT_NE(validate_config(c).find("admin"), std::string::npos);
  c.admin = "/tmp/.s.PGSQL.9930";
  EXPECT_NE(validate_config(c).find("TCP only"), std::string::npos);
}

TEST(ConfigValidation, TimeoutsMustNotBeNegative) {
  std::string error;
  Config c;
  c.listen.push_back(*parse_endpoint("127.0.0.1:1", error));
  c.upstream = *parse_endpoint("127.0.0.1:2", error);
  c.client_idle_timeout = std::chrono::milliseconds(-1);
  EXPECT_NE(validate_config(c).find("client_idle_timeout_ms"), std::string::npos);
  c.client_idle_timeout = std::chrono::milliseconds(0);
  c.idle_transaction_timeout = std::chrono::milliseconds(-5);
  EXPECT_NE(validate_config(c).find("idle_transaction_timeout_ms"), std::string::npos);
  c.idle_transaction_timeout = std::chrono::milliseconds(0);
  c.startup_timeout = std::chrono::milliseconds(0);
  EXPECT_NE(validate_config(c).find("startup_timeout_ms"), std::string::npos);
}

TEST(ConfigValidation, ThreadsAreZeroForOnePerCpuOrOneTo256) {
  std::string error;
  Config c;
  EXPECT_EQ(c.threads, 0);
  c.listen.push_back(*parse_endpoint("127.0.0.1:1", error));
  c.upstream = *parse_endpoint("127.0.0.1:2", error);
  EXPECT_EQ(validate_config(c), "");
  c.threads = 256;
  EXPECT_EQ(validate_config(c), "");
  c.threads = 257;
  EXPECT_NE(validate_config(c).find("threads"), std::string::npos);
  c.threads = -1;
  EXPECT_NE(validate_config(c).find("threads"), std::string::npos);
}

TEST(AvailableCpus, CgroupQuotaRoundsUpAndMaxIsNoLimit) {
  EXPECT_EQ(cpus_of_quota("200000 100000"), 2);
  EXPECT_EQ(cpus_of_quota("150000 100000\n"), 2);
  EXPECT_EQ(cpus_of_quota("50000 100000"), 1);
  EXPECT_EQ(cpus_of_quota("max 100000"), std::nullopt);
  EXPECT_EQ(cpus_of_quota("0 100000"), std::nullopt);
  EXPECT_EQ(cpus_of_quota("100000"), std::nullopt);
  EXPECT_EQ(cpus_of_quota("100000 0"), std::nullopt);
  EXPECT_EQ(cpus_of_quota("-5 100000"), std::nullopt);
  EXPECT_EQ(cpus_of_quota("12x 100000"), std::nullopt);
  EXPECT_EQ(cpus_of_quota(""), std::nullopt);
}

TEST(AvailableCpus, FollowsTheAffinityMask) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof all, &all), 0);
  EXPECT_GE(available_cpus(), 1);
  EXPECT_LE(available_cpus(), CPU_COUNT(&all));
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &all)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  const int pinned = available_cpus();
  ASSERT_EQ(sched_setaffinity(0, sizeof all, &all), 0);
  EXPECT_EQ(pinned, 1);
}

}  // namespace
}  // namespace pgshim::proxy
