#include "tests/integration/harness/rules_proxy.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace pgshim::testing {

std::string shop_rule(std::string_view migration, std::string_view database_glob, std::string_view phase,
                      std::string_view changes, std::string_view extra) {
  return fmt::format(R"(migration: {}
database: {}
phase: {}
versions:
  old: {{ application_name: "shop-v1*" }}
  new: {{ application_name: "shop-v2*" }}
  default: old
{}changes:
{})",
                     migration, database_glob, phase, extra, changes);
}

RulesProxy::RulesProxy(const PgServer& upstream, std::string_view name, const std::string& rule)
    : dir_(std::filesystem::temp_directory_path() / fmt::format("pgshim-{}-rules-{}", name, getpid())) {
  std::filesystem::create_directories(dir_);
  write(rule);
  proxy_ = std::make_unique<ProxyProcess>(
      upstream, ProxyProcess::Options{.extra_args = {"--upstream-tls", "disable", "--log-level", "debug"},
                                      .rules_dir = dir_});
}

RulesProxy::~RulesProxy() {
  proxy_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void RulesProxy::write(const std::string& rule) const { std::ofstream(dir_ + "/rules.yaml") << rule; }

void RulesProxy::reload() const {
  if (kill(proxy_->pid(), SIGHUP) != 0) throw std::runtime_error("cannot signal pgshim");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

}  // namespace pgshim::testing
