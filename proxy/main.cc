// pgshim: one binary, subcommands (DESIGN.md section 5). Exit codes: 0 success,
// 1 runtime failure, 2 bad usage or invalid configuration/rules.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "proxy/cli_backfill.h"
#include "proxy/cli_rules.h"
#include "proxy/config.h"
#include "proxy/server.h"

namespace {

using pgshim::proxy::Config;

struct ServeFlags {
  std::string config_file;
  std::vector<std::string> listen;
  std::string unix_socket_dir;
  std::string upstream;
  std::string rules;
  std::string admin;
  std::string tls_cert;
  std::string tls_key;
  std::string upstream_tls;
  std::string upstream_ca;
  int threads = 0;
  std::string batch_sends;
  int shutdown_grace_ms = -1;
  int startup_timeout_ms = -1;
  int client_idle_timeout_ms = -1;
  int idle_transaction_timeout_ms = -1;
  long max_message_size = 0;
  int max_client_connections = 0;
  std::string log_level;
};

void add_serve_flags(CLI::App& serve, ServeFlags& f) {
  serve.add_option("--config", f.config_file, "YAML configuration file (flags override it)");
  serve.add_option("--listen", f.listen, "HOST:PORT to accept clients on (repeatable)");
  serve.add_option("--unix-socket-dir", f.unix_socket_dir, "directory for the .s.PGSQL.<port> socket");
  serve.add_option("--upstream", f.upstream, "PostgreSQL server: HOST:PORT or /socket/dir:PORT");
  serve.add_option("--rules", f.rules, "rules directory");
  serve.add_option("--admin", f.admin, "HOST:PORT of the admin HTTP listener");
  serve.add_option("--tls-cert", f.tls_cert, "certificate chain (PEM) for client TLS");
  serve.add_option("--tls-key", f.tls_key, "private key (PEM) for client TLS");
  serve.add_option("--upstream-tls", f.upstream_tls, "disable | prefer | require | verify-full");
  serve.add_option("--upstream-ca", f.upstream_ca, "CA file to verify the server with verify-full");
  serve.add_option("--threads", f.threads, "worker threads (default: one per CPU pgshim may use)");
  serve.add_option("--batch-sends", f.batch_sends, "on | off: a worker's sends in one io_uring call (default on)");
  serve.add_option("--shutdown-grace-ms", f.shutdown_grace_ms, "how long SIGTERM waits for sessions");
  serve.add_option("--startup-timeout-ms", f.startup_timeout_ms, "deadline for a client's startup packet");
  serve.add_option("--client-idle-timeout-ms", f.client_idle_timeout_ms,
                   "close a client idle between transactions this long (0 = off, the default)");
  serve.add_option("--idle-transaction-timeout-ms", f.idle_transaction_timeout_ms,
                   "close a client idle inside a transaction this long (0 = off, the default)");
  serve.add_option("--max-message-size", f.max_message_size, "largest message held whole (Query, Parse...), bytes");
  serve.add_option("--max-client-connections", f.max_client_connections, "client connection limit");
  serve.add_option("--log-level", f.log_level, "trace | debug | info | warn | error");
}

// Applies the flags over the file's settings; returns "" or the error.
std::string apply_serve_flags(const ServeFlags& f, Config& c) {
  std::string error;
  if (!f.config_file.empty() && !pgshim::proxy::load_config_file(f.config_file, c, error)) return error;
  if (!f.listen.empty()) {
    c.listen.clear();
    for (const auto& text : f.listen) {
      auto endpoint = pgshim::proxy::parse_endpoint(text, error);
      if (!endpoint) return "--listen: " + error;
      c.listen.push_back(*endpoint);
    }
  }
  if (!f.upstream.empty()) {
    auto endpoint = pgshim::proxy::parse_endpoint(f.upstream, error);
    if (!endpoint) return "--upstream: " + error;
    c.upstream = *endpoint;
  }
  if (!f.upstream_tls.empty()) {
    auto mode = pgshim::proxy::parse_upstream_tls(f.upstream_tls);
    if (!mode) return "--upstream-tls must be one of disable, prefer, require, verify-full";
    c.upstream_tls = *mode;
  }
  const auto set = [](const std::string& v, std::string& out) { if (!v.empty()) out = v; };
  set(f.unix_socket_dir, c.unix_socket_dir);
  set(f.rules, c.rules_dir);
  set(f.admin, c.admin);
  set(f.tls_cert, c.tls_cert);
  set(f.tls_key, c.tls_key);
  set(f.upstream_ca, c.upstream_ca);
  set(f.log_level, c.log_level);
  if (f.threads > 0) c.threads = f.threads;
  if (!f.batch_sends.empty()) {
    if (f.batch_sends != "on" && f.batch_sends != "off") return "--batch-sends must be on or off";
    c.batch_sends = f.batch_sends == "on";
  }
  if (f.shutdown_grace_ms >= 0) c.shutdown_grace = std::chrono::milliseconds(f.shutdown_grace_ms);
  if (f.startup_timeout_ms >= 0) c.startup_timeout = std::chrono::milliseconds(f.startup_timeout_ms);
  if (f.client_idle_timeout_ms >= 0) c.client_idle_timeout = std::chrono::milliseconds(f.client_idle_timeout_ms);
  if (f.idle_transaction_timeout_ms >= 0) {
    c.idle_transaction_timeout = std::chrono::milliseconds(f.idle_transaction_timeout_ms);
  }
  if (f.max_message_size > 0) c.max_message_size = static_cast<std::uint32_t>(f.max_message_size);
  if (f.max_client_connections > 0) c.max_client_connections = f.max_client_connections;
  return pgshim::proxy::validate_config(c);
}

int serve(const ServeFlags& flags) {
  Config config;
  if (auto error = apply_serve_flags(flags, config); !error.empty()) {
    spdlog::error("{}", error);
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  pgshim::proxy::Server server(std::move(config));
  if (auto error = server.open(); !error.empty()) {
    spdlog::error("{}", error);
    return error.starts_with("invalid rules") ? 2 : 1;
  }
  return server.run();
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  CLI::App app{"pgshim: a PostgreSQL proxy that rewrites SQL for zero-downtime schema migrations"};
  app.require_subcommand(1);
  ServeFlags serve_flags;
  auto* serve_command = app.add_subcommand("serve", "run the proxy");
  add_serve_flags(*serve_command, serve_flags);
  std::function<int()> run_rule_command;
  pgshim::proxy::add_rule_commands(app, run_rule_command);
  pgshim::proxy::add_backfill_command(app, run_rule_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (serve_command->parsed()) return serve(serve_flags);
  if (run_rule_command) return run_rule_command();
  return 2;
}
