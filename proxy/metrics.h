// Counters the admin listener serves at /metrics (Prometheus text format,
// DESIGN.md section 4). Sessions bump them on their own threads: plain atomics,
// except rewrites by migration and change, kept in a small map behind a mutex
// (only statements that were rewritten take it).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "rules/model.h"
#include "rules/rewrite_result.h"

namespace pgshim::proxy {

// Gauges the metrics do not own, read when rendering.
struct MetricsGauges {
  int client_connections = 0;
  std::uint64_t rules_version = 0;
  std::uint64_t cache_hits = 0;
  std::uint64_t cache_misses = 0;
  std::uint64_t cache_entries = 0;
};

class Metrics {
 public:
  // Upper bounds of the rewrite latency buckets, in microseconds (+Inf follows).
  static constexpr std::array<std::uint64_t, 10> kLatencyBucketsUs = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};

  std::atomic<std::uint64_t> connections_total{0};    // client sessions accepted
  std::atomic<std::uint64_t> queries_total{0};        // Query and Execute messages from clients
  std::atomic<std::uint64_t> upstream_errors_total{0};  // server unreachable, gone or malformed
  std::atomic<std::uint64_t> reloads_total{0};
  std::atomic<std::uint64_t> reload_failures_total{0};
  std::atomic<std::uint64_t> refusals_total{0};       // statements answered with pgshim's error

  // One statement through the rewrite cache and engine: its latency, and for a
  // rewritten statement each change that shaped it.
  void record_rewrite(const rules::RuleSet& rules, const rules::RewriteResult& result,
                      std::chrono::nanoseconds took);

  [[nodiscard]] std::string render(const MetricsGauges& gauges) const;

 private:
  std::array<std::atomic<std::uint64_t>, kLatencyBucketsUs.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_ns_{0};

  // (migration, change kind, target) -> statements rewritten by that change.
  mutable std::mutex rewrites_mutex_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> rewrites_;
};

}  // namespace pgshim::proxy
