#include "tests/integration/harness/proxy_process.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "tests/integration/harness/process.h"

namespace pgshim::testing {

ProxyProcess::ProxyProcess(const PgServer& upstream) : ProxyProcess(upstream, Options{}) {}

ProxyProcess::ProxyProcess(const PgServer& upstream, Options options)
    : upstream_(upstream), options_(std::move(options)) {
  char tmpl[] = "/tmp/pgshim-proxy-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (options_.rules_dir.empty()) {
    options_.rules_dir = dir_ + "/rules";
    std::filesystem::create_directories(options_.rules_dir);
  }
  port_ = free_port();
  start();
}

ProxyProcess::~ProxyProcess() {
  stop();
  std::error_code ec;
  if (std::getenv("PGSHIM_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ec);
}

void ProxyProcess::start() {
  if (pid_ > 0) return;
  std::vector<std::string> argv = {PGSHIM_BINARY,
                                   "serve",
                                   "--listen",
                                   fmt::format("127.0.0.1:{}", port_),
                                   "--unix-socket-dir",
                                   dir_,
                                   "--upstream",
                                   fmt::format("{}:{}", upstream_.host(), upstream_.port()),
                                   "--rules",
                                   options_.rules_dir};
  if (options_.tls) {
    argv.insert(argv.end(), {"--tls-cert", upstream_.cert_file(), "--tls-key",
                             upstream_.key_file()});
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  pid_ = spawn(argv, dir_ + "/pgshim.log");
  if (!wait_for_port(port_, std::chrono::seconds(20))) {
    throw std::runtime_error("pgshim did not start listening: " + log());
  }
}

int ProxyProcess::stop(int timeout_ms) {
  if (pid_ <= 0) return 0;
  const int status = stop_process(pid_, SIGTERM, std::chrono::milliseconds(timeout_ms));
  pid_ = -1;
  return status;
}

std::string ProxyProcess::log() const { return read_file(dir_ + "/pgshim.log"); }

std::string ProxyProcess::dsn(std::string_view database, std::string_view user,
                              std::string_view extra) const {
  return fmt::format("host=127.0.0.1 port={} dbname={} user={} connect_timeout=10 {}", port_,
                     database, user, extra);
}

}  // namespace pgshim::testing
