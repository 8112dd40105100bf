#include "tests/integration/harness/checks.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/resource.h>

#include <memory>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/pq.h"
#include "tests/integration/harness/process.h"

namespace pgshim::testing {

void expect_serves_new_client(const ProxyProcess& proxy) {
  Conn c(proxy.dsn());
  ASSERT_TRUE(c.ok()) << "a new client after the fault: " << c.error() << tail(proxy.log());
  Result r = c.exec("SELECT 'still serving'");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.value(), "still serving");
}

int client_backends(const PgServer& pg, std::string_view application_name) {
  Conn c(pg.dsn());
  if (!c.ok()) return -1;
  std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
  if (!application_name.empty()) sql += fmt::format(" AND application_name = '{}'", application_name);
  Result r = c.exec(sql);
  return r.ok() ? std::stoi(r.value()) : -1;
}

int wait_for_client_backends(const PgServer& pg, int expected, std::chrono::milliseconds timeout,
                             std::string_view application_name) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int n = client_backends(pg, application_name);
    if (n == expected || std::chrono::steady_clock::now() >= deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

int wait_for_open_fds(pid_t pid, int expected, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const int n = open_fds(pid);
    if (n == expected || std::chrono::steady_clock::now() >= deadline) return n;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int settled_open_fds(pid_t pid) {
  int last = open_fds(pid);
  auto still_since = std::chrono::steady_clock::now();
  const auto deadline = still_since + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline &&
         std::chrono::steady_clock::now() - still_since < std::chrono::milliseconds(500)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int n = open_fds(pid);
    if (n != last) {
      last = n;
      still_since = std::chrono::steady_clock::now();
    }
  }
  return last;
}

long raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0 && getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  return static_cast<long>(limit.rlim_cur);
}

std::string tls_client_hello() {
  const std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(SSL_CTX_new(TLS_client_method()),
                                                                   SSL_CTX_free);
  if (!context) return "";
  const std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
  if (!ssl) return "";
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);  // the SSL object owns both from here
  SSL_set_connect_state(ssl.get());
  SSL_do_handshake(ssl.get());  // WANT_READ: the ClientHello is in `out`
  std::string hello(static_cast<std::size_t>(BIO_pending(out)), '\0');
  if (!hello.empty()) BIO_read(out, hello.data(), static_cast<int>(hello.size()));
  return hello;
}

}  // namespace pgshim::testing
