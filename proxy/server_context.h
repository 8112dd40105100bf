// What every session shares with the server: settings, TLS contexts, the
// registry of cancel keys, and the shutdown state. Thread-safe where noted.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_set>

#include <boost/asio/ssl/context.hpp>

#include "proxy/config.h"
#include "proxy/metrics.h"
#include "proxy/rules_state.h"

namespace pgshim::proxy {

// The BackendKeyData of every live server connection, so that a CancelRequest is
// forwarded only when it names one of our backends (never sprayed at others).
class CancelRegistry {
 public:
  void add(std::uint32_t pid, std::uint32_t key);
  void remove(std::uint32_t pid, std::uint32_t key);
  [[nodiscard]] bool contains(std::uint32_t pid, std::uint32_t key) const;

 private:
  static std::uint64_t join(std::uint32_t pid, std::uint32_t key) {
    return (std::uint64_t{pid} << 32) | key;
  }
  mutable std::mutex mutex_;
  std::unordered_set<std::uint64_t> keys_;
};

struct ServerContext {
  Config config;
  std::unique_ptr<boost::asio::ssl::context> client_tls;  // null = TLS not offered
  std::unique_ptr<boost::asio::ssl::context> upstream_tls;
  CancelRegistry cancels;
  std::unique_ptr<RulesState> rules;
  std::atomic<bool> shutting_down{false};
  std::atomic<int> client_connections{0};
  std::atomic<std::uint64_t> next_session_id{1};
  Metrics metrics;
};

}  // namespace pgshim::proxy
