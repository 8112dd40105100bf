// A pgshim process for integration tests: `pgshim serve` on a free loopback port
// (and a Unix socket in its own temporary directory) in front of a PgServer.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/pg_server.h"

namespace pgshim::testing {

class ProxyProcess {
 public:
  struct Options {
    std::vector<std::string> extra_args;  // appended to `pgshim serve ...`
    bool tls = false;                     // serve TLS with the server's certificate
    std::string rules_dir;                // "" = an empty rules directory
  };

  explicit ProxyProcess(const PgServer& upstream);
  ProxyProcess(const PgServer& upstream, Options options);
  ~ProxyProcess();
  ProxyProcess(const ProxyProcess&) = delete;
  ProxyProcess& operator=(const ProxyProcess&) = delete;

  void start();
  // SIGTERM, then waits up to `timeout_ms`; returns the wait status.
  int stop(int timeout_ms = 30000);

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string socket_dir() const { return dir_; }
  [[nodiscard]] std::string log() const;

  // A libpq connection string through the proxy.
  [[nodiscard]] std::string dsn(std::string_view database = "postgres",
                                std::string_view user = "postgres",
                                std::string_view extra = "sslmode=disable") const;

 private:
  const PgServer& upstream_;
  Options options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace pgshim::testing
