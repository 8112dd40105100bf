#include "tests/integration/harness/proxy_process.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

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

std::size_t ProxyProcess::log_count(std::string_view needle) const {
  return count_occurrences(log(), needle);
}

bool ProxyProcess::wait_for_log(std::string_view needle, std::size_t seen,
                                std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (log_count(needle) > seen) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ProxyProcess::set_phase(std::string_view migration, std::string_view phase) const {
  static constexpr std::string_view kInForce = " in force: ";  // the reload's log line
  const std::size_t reloads = log_count(kInForce);
  const std::string output_file = dir_ + "/phase.log";
  const int status = run({PGSHIM_BINARY, "phase", "--rules", options_.rules_dir, "--migration",
                          std::string(migration), "--set", std::string(phase)},
                         output_file);
  const std::string output = read_file(output_file);
  std::filesystem::remove(output_file);
  if (status != 0) return fmt::format("pgshim phase --set {} exited {}: {}", phase, status, output);
  // The proxy polls its rules directory every second.
  if (!wait_for_log(kInForce, reloads, std::chrono::seconds(10))) {
    return fmt::format("the proxy did not reload the rules after `pgshim phase --set {}`:\n{}", phase,
                       tail(log()));
  }
  return "";
}

std::string ProxyProcess::dsn(std::string_view database, std::string_view user,
                              std::string_view extra) const {
  return fmt::format("host=127.0.0.1 port={} dbname={} user={} connect_timeout=10 {}", port_,
                     database, user, extra);
}

}  // namespace pgshim::testing
