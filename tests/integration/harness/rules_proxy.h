// A pgshim with a rules directory of its own, for tests that switch phases:
// the rules are one file, rewritten and reloaded (SIGHUP) as the test goes.
// Their migrations share one way of telling versions apart: application_name
// shop-v1* speaks old, shop-v2* new, anything else old.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/proxy_process.h"

namespace pgshim::testing {

// A rule file: `changes` is the YAML list under `changes:`, each item indented
// by two spaces; `extra` goes before it (`strict: true\n`, say).
[[nodiscard]] std::string shop_rule(std::string_view migration, std::string_view database_glob, std::string_view phase,
                                    std::string_view changes, std::string_view extra = "");

// users.fullname renamed to display_name, and users.nickname added ('none'
// until it exists).
inline constexpr std::string_view kUsersRenameChanges = R"(  - rename_column:
      table: users
      from: fullname
      to: display_name
  - add_column:
      table: users
      column: { name: nickname, type: text }
      default: "'none'"
)";

class RulesProxy {
 public:
  // Writes `rule` into a new directory named after `name` and starts a proxy
  // on it, logging at debug level.
  RulesProxy(const PgServer& upstream, std::string_view name, const std::string& rule);
  ~RulesProxy();  // stops the proxy, removes the directory
  RulesProxy(const RulesProxy&) = delete;
  RulesProxy& operator=(const RulesProxy&) = delete;

  void write(const std::string& rule) const;
  // SIGHUP, then time for the proxy to reload.
  void reload() const;
  [[nodiscard]] ProxyProcess& proxy() const { return *proxy_; }

 private:
  std::string dir_;
  std::unique_ptr<ProxyProcess> proxy_;
};

}  // namespace pgshim::testing
