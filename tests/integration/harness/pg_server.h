// A PostgreSQL 15 server for integration tests: initdb into a temporary
// directory, a free loopback port, a Unix socket in the same directory, TLS with
// a self-signed certificate made here, and three roles:
//   postgres   superuser, trust
//   scram_user password "scram_pass", SCRAM-SHA-256 on TCP
//   md5_user   password "md5_pass", md5 on TCP
//   clear_user password "clear_pass", cleartext password on TCP
// When the tests run as root the server runs as the `postgres` system user.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace pgshim::testing {

class PgServer {
 public:
  struct Options {
    int max_connections = 400;  // above 1,000 for tests that hold that many clients
  };

  // One server per test process, started on first use, stopped at exit.
  static PgServer& shared();

  PgServer();
  explicit PgServer(Options options);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  void start();
  void stop();     // fast shutdown (SIGINT), waits for exit
  void restart();  // stop then start on the same port and directory
  // Immediate shutdown (SIGQUIT): no checkpoint, every backend dropped, as if the
  // server had been killed; the next start() replays the WAL.
  void kill();

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  [[nodiscard]] const std::string& dir() const { return dir_; }
  [[nodiscard]] std::string socket_dir() const { return dir_; }
  [[nodiscard]] std::string cert_file() const { return dir_ + "/server.crt"; }
  [[nodiscard]] std::string key_file() const { return dir_ + "/server.key"; }
  [[nodiscard]] pid_t pid() const { return pid_; }

  // A libpq connection string straight to the server.
  [[nodiscard]] std::string dsn(std::string_view database = "postgres",
                                std::string_view user = "postgres") const;

  // Runs SQL as the superuser on `database`; throws with the server's message on error.
  void exec(std::string_view sql, std::string_view database = "postgres") const;
  void create_database(std::string_view name) const;

 private:
  void initdb();
  void wait_ready() const;
  void create_roles() const;

  Options options_;
  std::string dir_;
  std::string bin_dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool initialized_ = false;
};

}  // namespace pgshim::testing
