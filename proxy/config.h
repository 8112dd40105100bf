// The proxy's settings: a YAML file (pgshim.yaml) overridden by command-line flags.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::proxy {

enum class UpstreamTls { kDisable, kPrefer, kRequire, kVerifyFull };

struct Endpoint {
  std::string host;  // an address, a host name, or (when unix_path is set) empty
  std::uint16_t port = 0;
  std::string unix_path;  // a Unix socket file
};

struct Config {
  std::vector<Endpoint> listen;  // TCP listeners
  std::string unix_socket_dir;   // "" = no Unix listener; else DIR/.s.PGSQL.<first port>
  Endpoint upstream;
  std::string rules_dir;
  std::string admin;  // HOST:PORT of the admin HTTP listener, "" = none
  std::string tls_cert;
  std::string tls_key;
  UpstreamTls upstream_tls = UpstreamTls::kPrefer;
  std::string upstream_ca;  // CA file for verify-full ("" = system default paths)
  // Worker threads; 0 = one per CPU pgshim may use (available_cpus()).
  int threads = 0;
  // Each worker makes its pumps' sends together, in one io_uring call per round
  // (proxy/send_batch.h); off, or without io_uring, each is a send() of its own.
  bool batch_sends = true;
  std::chrono::milliseconds startup_timeout{10'000};
  std::chrono::milliseconds shutdown_grace{30'000};
  // 0 = off. A client idle between transactions, or inside one, that long is
  // closed with a FATAL (as PostgreSQL's idle_session_timeout and
  // idle_in_transaction_session_timeout would).
  std::chrono::milliseconds client_idle_timeout{0};
  std::chrono::milliseconds idle_transaction_timeout{0};
  std::uint32_t max_message_size = 64u << 20;  // every message the proxy holds whole (Query, Parse...)
  int max_client_connections = 10'000;
  std::string log_level = "info";
};

// The CPUs this process may run on: its affinity mask, capped by the CPU quota
// of its cgroup and the cgroups above it (cgroup v2 cpu.max, rounded up), and
// by 256. At least 1.
[[nodiscard]] int available_cpus();
// The CPUs a cgroup v2 cpu.max line ("QUOTA PERIOD", or "max PERIOD") allows,
// rounded up; nullopt for no limit or a line that does not parse.
[[nodiscard]] std::optional<int> cpus_of_quota(std::string_view cpu_max);

// Parses "HOST:PORT", "[V6]:PORT", "/path/.s.PGSQL.5432" or "/dir:PORT" (a Unix
// socket directory and port, as libpq spells them).
[[nodiscard]] std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error);
[[nodiscard]] std::optional<UpstreamTls> parse_upstream_tls(const std::string& text);

// Reads pgshim.yaml into `config`. Returns false with `error` as "file:line:column: sentence".
[[nodiscard]] bool load_config_file(const std::string& path, Config& config, std::string& error);

// Checks the combination of settings; returns "" when valid.
[[nodiscard]] std::string validate_config(const Config& config);

}  // namespace pgshim::proxy
