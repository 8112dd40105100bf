#include "proxy/config.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace pgshim::proxy {

std::optional<int> cpus_of_quota(std::string_view cpu_max) {
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::string_view quota_text = cpu_max.substr(0, space);
  std::string_view period_text = cpu_max.substr(space + 1);
  while (period_text.ends_with('\n') || period_text.ends_with(' ')) period_text.remove_suffix(1);
  const auto number = [](std::string_view text) -> std::optional<long long> {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
    return value;
  };
  const auto quota = number(quota_text);
  const auto period = number(period_text);
  if (!quota || !period) return std::nullopt;  // "max", or not a quota
  return static_cast<int>(std::min<long long>((*quota + *period - 1) / *period, 1 << 20));
}

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set)
                                                          : static_cast<int>(std::thread::hardware_concurrency());
  // Each cgroup from the root down to this process's (the "0::" line of
  // /proc/self/cgroup, cgroup v2) may set a quota.
  namespace fs = std::filesystem;
  const auto cap = [&cpus](const fs::path& dir) {
    std::ifstream file(dir / "cpu.max");
    std::string cpu_max;
    if (!std::getline(file, cpu_max)) return;
    if (const auto quota = cpus_of_quota(cpu_max)) cpus = std::min(cpus, *quota);
  };
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    if (!line.starts_with("0::/")) continue;
    fs::path dir = "/sys/fs/cgroup";
    cap(dir);
    for (const auto& part : fs::path(line.substr(4))) {
      if (part.empty()) continue;
      if (part == "..") break;  // outside this cgroup namespace: not reachable from here
      dir /= part;
      cap(dir);
    }
  }
  return std::clamp(cpus, 1, 256);
}

std::optional<Endpoint> parse_endpoint(const std::string& text, std::string& error) {
  Endpoint e;
  std::string port_text;
  if (!text.empty() && text[0] == '/') {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      e.unix_path = text;
      return e;
    }
    port_text = text.substr(colon + 1);
    e.unix_path = text.substr(0, colon) + "/.s.PGSQL." + port_text;
  } else if (!text.empty() && text[0] == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) {
      error = fmt::format("'{}' is not [ADDRESS]:PORT", text);
      return std::nullopt;
    }
    e.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      error = fmt::format("'{}' is not HOST:PORT", text);
      return std::nullopt;
    }
    e.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  try {
    std::size_t used = 0;
    const int port = std::stoi(port_text, &used);
    if (used != port_text.size() || port <= 0 || port > 65535) throw std::out_of_range("port");
    e.port = static_cast<std::uint16_t>(port);
  } catch (const std::exception&) {
    error = fmt::format("'{}' has an invalid port '{}' (1-65535)", text, port_text);
    return std::nullopt;
  }
  return e;
}

std::optional<UpstreamTls> parse_upstream_tls(const std::string& text) {
  if (text == "disable") return UpstreamTls::kDisable;
  if (text == "prefer") return UpstreamTls::kPrefer;
  if (text == "require") return UpstreamTls::kRequire;
  if (text == "verify-full") return UpstreamTls::kVerifyFull;
  return std::nullopt;
}

namespace {

std::string where(const std::string& path, const YAML::Node& node) {
  const auto mark = node.Mark();
  return fmt::format("{}:{}:{}", path, mark.line + 1, mark.column + 1);
}

bool apply_key(const std::string& path, const std::string& key, const YAML::Node& value,
               Config& c, std::string& error) {
  const auto as_endpoint = [&](Endpoint& out) {
    auto e = parse_endpoint(value.as<std::string>(), error);
    if (!e) error = where(path, value) + ": " + error;
    if (e) out = *e;
    return e.has_value();
  };
  if (key == "listen") {
    c.listen.clear();
    const auto add = [&](const YAML::Node& n) {
      auto e = parse_endpoint(n.as<std::string>(), error);
      if (!e) error = where(path, n) + ": " + error;
      if (e) c.listen.push_back(*e);
      return e.has_value();
    };
    if (!value.IsSequence()) return add(value);
    for (const auto& n : value) {
      if (!add(n)) return false;
    }
    return true;
  }
  if (key == "upstream") return as_endpoint(c.upstream);
  if (key == "unix_socket_dir") c.unix_socket_dir = value.as<std::string>();
  else if (key == "rules") c.rules_dir = value.as<std::string>();
  else if (key == "admin") c.admin = value.as<std::string>();
  else if (key == "tls_cert") c.tls_cert = value.as<std::string>();
  else if (key == "tls_key") c.tls_key = value.as<std::string>();
  else if (key == "upstream_ca") c.upstream_ca = value.as<std::string>();
  else if (key == "threads") c.threads = value.as<int>();
  else if (key == "batch_sends") c.batch_sends = value.as<bool>();
  else if (key == "startup_timeout_ms") c.startup_timeout = std::chrono::milliseconds(value.as<int>());
  else if (key == "shutdown_grace_ms") c.shutdown_grace = std::chrono::milliseconds(value.as<int>());
  else if (key == "client_idle_timeout_ms") c.client_idle_timeout = std::chrono::milliseconds(value.as<int>());
  else if (key == "idle_transaction_timeout_ms") c.idle_transaction_timeout = std::chrono::milliseconds(value.as<int>());
  else if (key == "max_message_size") c.max_message_size = value.as<std::uint32_t>();
  else if (key == "max_client_connections") c.max_client_connections = value.as<int>();
  else if (key == "log_level") c.log_level = value.as<std::string>();
  else if (key == "upstream_tls") {
    auto mode = parse_upstream_tls(value.as<std::string>());
    if (!mode) {
      error = where(path, value) +
              ": upstream_tls must be one of disable, prefer, require, verify-full";
      return false;
    }
    c.upstream_tls = *mode;
  } else {
    error = where(path, value) + fmt::format(
        ": unknown setting '{}'; known: listen, unix_socket_dir, upstream, rules, admin, tls_cert, "
        "tls_key, upstream_tls, upstream_ca, threads, batch_sends, startup_timeout_ms, shutdown_grace_ms, "
        "client_idle_timeout_ms, idle_transaction_timeout_ms, max_message_size, max_client_connections, "
        "log_level", key);
    return false;
  }
  return true;
}

}  // namespace

bool load_config_file(const std::string& path, Config& config, std::string& error) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) {
      error = path + ":1:1: the configuration must be a mapping of settings";
      return false;
    }
    for (const auto& entry : root) {
      const auto key = entry.first.as<std::string>();
      try {
        if (!apply_key(path, key, entry.second, config, error)) return false;
      } catch (const YAML::Exception&) {
        error = where(path, entry.second) + fmt::format(": '{}' has a value of the wrong type", key);
        return false;
      }
    }
    return true;
  } catch (const YAML::BadFile&) {
    error = path + ": cannot read the configuration file";
  } catch (const YAML::Exception& e) {
    error = fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
  return false;
}

std::string validate_config(const Config& c) {
  if (c.listen.empty() && c.unix_socket_dir.empty()) return "nothing to listen on: set --listen";
  if (c.upstream.port == 0 && c.upstream.unix_path.empty()) return "no upstream: set --upstream";
  if (c.tls_cert.empty() != c.tls_key.empty()) return "--tls-cert and --tls-key go together";
  if (c.threads < 0 || c.threads > 256) return "threads must be between 1 and 256, or 0 for one per CPU";
  if (c.max_message_size < 1024) return "max_message_size must be at least 1024 bytes";
  if (c.max_client_connections < 1) return "max_client_connections must be at least 1";
  if (!c.admin.empty()) {
    std::string error;
    const auto admin = parse_endpoint(c.admin, error);
    if (!admin) return "admin: " + error;
    if (!admin->unix_path.empty()) return "admin: give HOST:PORT (the admin listener is TCP only)";
  }
  if (c.startup_timeout.count() <= 0) return "startup_timeout_ms must be above 0";
  if (c.client_idle_timeout.count() < 0) return "client_idle_timeout_ms must be 0 (off) or more";
  if (c.idle_transaction_timeout.count() < 0) return "idle_transaction_timeout_ms must be 0 (off) or more";
  if (!c.unix_socket_dir.empty() && !std::filesystem::is_directory(c.unix_socket_dir)) {
    return "unix_socket_dir '" + c.unix_socket_dir + "' is not a directory";
  }
  return "";
}

}  // namespace pgshim::proxy
