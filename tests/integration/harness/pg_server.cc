#include "tests/integration/harness/pg_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "tests/integration/harness/process.h"

namespace pgshim::testing {
namespace {

const RunAs kAsPostgres{.drop_root = true, .user = "postgres"};

std::string find_bin_dir() {
  for (const char* dir : {"/usr/lib/postgresql/15/bin", "/usr/local/pgsql/bin"}) {
    if (std::filesystem::exists(std::string(dir) + "/initdb")) return dir;
  }
  throw std::runtime_error("PostgreSQL 15 server binaries not found (install postgresql-15)");
}

void chown_to_postgres(const std::string& path) {
  if (geteuid() != 0) return;
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("running as root needs a 'postgres' system user");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (lchown(entry.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("chown failed: " + entry.path().string());
    }
  }
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown failed");
}

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app);
  out << text;
}

}  // namespace

PgServer& PgServer::shared() {
  static PgServer server;
  if (server.pid_ < 0) server.start();
  return server;
}

PgServer::PgServer() : PgServer(Options{}) {}

PgServer::PgServer(Options options) : options_(options), bin_dir_(find_bin_dir()) {
  char tmpl[] = "/tmp/pgshim-pg-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  port_ = free_port();
}

PgServer::~PgServer() {
  stop();
  std::error_code ec;
  if (std::getenv("PGSHIM_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ec);
}

void PgServer::initdb() {
  const std::string log = dir_ + "/initdb.log";
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
  const std::string openssl_log = dir_ + "/openssl.log";
  if (run({"openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=localhost",
           "-newkey", "rsa:2048", "-keyout", key_file(), "-out", cert_file()},
          openssl_log) != 0) {
    throw std::runtime_error("openssl could not make a certificate: " + read_file(openssl_log));
  }
  std::filesystem::permissions(key_file(), std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
  chown_to_postgres(dir_);
  if (run({bin_dir_ + "/initdb", "-D", dir_ + "/data", "-U", "postgres", "--auth=trust", "-E",
           "UTF8", "--locale=C", "--no-sync"},
          log, kAsPostgres) != 0) {
    throw std::runtime_error("initdb failed: " + read_file(log));
  }
  append(dir_ + "/data/postgresql.conf",
         fmt::format("port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n"
                     "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\n"
                     "synchronous_commit = off\nfull_page_writes = off\nmax_connections = {}\n"
                     "shared_buffers = 128MB\npassword_encryption = 'scram-sha-256'\n",
                     port_, dir_, cert_file(), key_file(), options_.max_connections));
  std::ofstream hba(dir_ + "/data/pg_hba.conf", std::ios::trunc);
  hba << "local all all trust\n"
         "host all scram_user 127.0.0.1/32 scram-sha-256\n"
         "host all md5_user 127.0.0.1/32 md5\n"
         "host all clear_user 127.0.0.1/32 password\n"
         "host all all 127.0.0.1/32 trust\n"
         "host all all ::1/128 trust\n";
  hba.close();
  chown_to_postgres(dir_);
  initialized_ = true;
}

void PgServer::start() {
  if (pid_ > 0) return;
  const bool first = !initialized_;
  if (first) initdb();
  // SIGINT is PostgreSQL's fast shutdown: it ends the backends too.
  pid_ = spawn({bin_dir_ + "/postgres", "-D", dir_ + "/data"}, dir_ + "/postgres.log",
               kAsPostgres, SIGINT);
  wait_ready();
  if (first) create_roles();
}

void PgServer::stop() {
  if (pid_ <= 0) return;
  stop_process(pid_, SIGINT, std::chrono::seconds(30));
  pid_ = -1;
}

void PgServer::kill() {
  if (pid_ <= 0) return;
  stop_process(pid_, SIGQUIT, std::chrono::seconds(30));
  pid_ = -1;
}

void PgServer::restart() {
  stop();
  start();
}

void PgServer::wait_ready() const {
  const std::string conninfo = dsn();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("PostgreSQL did not start: " + read_file(dir_ + "/postgres.log"));
}

void PgServer::create_roles() const {
  exec("CREATE ROLE scram_user LOGIN PASSWORD 'scram_pass'");
  exec("CREATE ROLE clear_user LOGIN PASSWORD 'clear_pass'");
  exec("SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD 'md5_pass'");
  exec("GRANT ALL ON SCHEMA public TO PUBLIC");
}

std::string PgServer::dsn(std::string_view database, std::string_view user) const {
  return fmt::format("host={} port={} dbname={} user={} sslmode=disable connect_timeout=10",
                     host(), port_, database, user);
}

void PgServer::exec(std::string_view sql, std::string_view database) const {
  PGconn* conn = PQconnectdb(dsn(database).c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("connect failed: " + message);
  }
  PGresult* res = PQexec(conn, std::string(sql).c_str());
  const auto status = PQresultStatus(res);
  std::string message = PQresultErrorMessage(res);
  PQclear(res);
  PQfinish(conn);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error(fmt::format("{}: {}", sql, message));
  }
}

void PgServer::create_database(std::string_view name) const {
  exec(fmt::format("CREATE DATABASE \"{}\"", name));
}

}  // namespace pgshim::testing
