// A pgshim process for integration tests: `pgshim serve` on a free loopback port
// (and a Unix socket in its own temporary directory) in front of a PgServer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
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
  [[nodiscard]] const std::string& rules_dir() const { return options_.rules_dir; }

  // How many times `needle` occurs in the log so far.
  [[nodiscard]] std::size_t log_count(std::string_view needle) const;
  // Waits until `needle` occurs more than `seen` times in the log.
  [[nodiscard]] bool wait_for_log(std::string_view needle, std::size_t seen,
                                  std::chrono::milliseconds timeout) const;
  // Runs `pgshim phase --set` on the rules directory and waits until the proxy
  // has put the new rules in force. Returns "" or what went wrong.
  [[nodiscard]] std::string set_phase(std::string_view migration, std::string_view phase) const;

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
