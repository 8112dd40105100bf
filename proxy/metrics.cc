#include "proxy/metrics.h"

#include <fmt/format.h>

#include "rules/names.h"

namespace pgshim::proxy {
namespace {

// A label value in the text format: backslash, double quote and newline escaped.
std::string label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void counter(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, value);
}

void gauge(std::string& out, std::string_view name, std::string_view help, std::uint64_t value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, value);
}

}  // namespace

void Metrics::record_rewrite(const rules::RuleSet& rules, const rules::RewriteResult& result,
                             std::chrono::nanoseconds took) {
  const auto ns = static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count());
  std::size_t bucket = 0;
  while (bucket < kLatencyBucketsUs.size() && ns > kLatencyBucketsUs[bucket] * 1000) ++bucket;
  latency_buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ns_.fetch_add(ns, std::memory_order_relaxed);
  if (result.status != rules::RewriteStatus::kRewritten) return;
  std::lock_guard lock(rewrites_mutex_);
  for (const auto& applied : result.applied) {
    if (applied.migration >= rules.migrations.size()) continue;
    const auto& migration = rules.migrations[applied.migration];
    if (applied.change >= migration.changes.size()) continue;
    const auto& kind = migration.changes[applied.change].kind;
    ++rewrites_[{migration.name, std::string(rules::change_kind_name(kind)), rules::change_target(kind)}];
  }
}

std::string Metrics::render(const MetricsGauges& gauges) const {
  std::string out;
  gauge(out, "pgshim_client_connections", "Client connections open now.",
        static_cast<std::uint64_t>(gauges.client_connections < 0 ? 0 : gauges.client_connections));
  counter(out, "pgshim_client_connections_total", "Client connections accepted.", connections_total.load());
  counter(out, "pgshim_queries_total", "Query and Execute messages received from clients.", queries_total.load());
  counter(out, "pgshim_upstream_errors_total",
          "Server connections that failed: unreachable, closed unexpectedly or sending malformed messages.",
          upstream_errors_total.load());
  counter(out, "pgshim_refusals_total", "Statements answered with pgshim's own error instead of being run.",
          refusals_total.load());
  counter(out, "pgshim_reloads_total", "Rule reloads that took effect.", reloads_total.load());
  counter(out, "pgshim_reload_failures_total", "Rule reloads refused (the previous rules stayed in force).",
          reload_failures_total.load());
  gauge(out, "pgshim_rules_version", "Version of the rules in force (bumps on every reload).",
        gauges.rules_version);
  counter(out, "pgshim_rewrite_cache_hits_total", "Statements answered from the rewrite cache.",
          gauges.cache_hits);
  counter(out, "pgshim_rewrite_cache_misses_total", "Statements the rewrite engine had to parse.",
          gauges.cache_misses);
  gauge(out, "pgshim_rewrite_cache_entries", "Entries in the rewrite cache.", gauges.cache_entries);

  out += "# HELP pgshim_rewrites_total Statements rewritten, by migration and change.\n";
  out += "# TYPE pgshim_rewrites_total counter\n";
  {
    std::lock_guard lock(rewrites_mutex_);
    for (const auto& [key, count] : rewrites_) {
      const auto& [migration, kind, target] = key;
      fmt::format_to(std::back_inserter(out), "pgshim_rewrites_total{{migration=\"{}\",change=\"{}\",target=\"{}\"}} {}\n",
                     label(migration), label(kind), label(target), count);
    }
  }

  out += "# HELP pgshim_rewrite_duration_seconds Time to rewrite a statement that may touch a rule (cache and engine).\n";
  out += "# TYPE pgshim_rewrite_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    cumulative += latency_buckets_[i].load(std::memory_order_relaxed);
    if (i < kLatencyBucketsUs.size()) {
      fmt::format_to(std::back_inserter(out), "pgshim_rewrite_duration_seconds_bucket{{le=\"{}\"}} {}\n",
                     static_cast<double>(kLatencyBucketsUs[i]) / 1e6, cumulative);
    } else {
      fmt::format_to(std::back_inserter(out), "pgshim_rewrite_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
                     cumulative);
    }
  }
  fmt::format_to(std::back_inserter(out), "pgshim_rewrite_duration_seconds_sum {}\n",
                 static_cast<double>(latency_sum_ns_.load(std::memory_order_relaxed)) / 1e9);
  // The +Inf bucket is the count: read once, so the two always agree.
  fmt::format_to(std::back_inserter(out), "pgshim_rewrite_duration_seconds_count {}\n", cumulative);
  return out;
}

}  // namespace pgshim::proxy
