#include "proxy/metrics.h"

#include <gtest/gtest.h>

namespace pgshim::proxy {
namespace {

rules::RuleSet one_rename(std::string migration_name) {
  rules::RuleSet set;
  rules::Migration m;
  m.name = std::move(migration_name);
  m.changes.push_back({rules::RenameColumn{{"app", "users"}, "fullname", "display_name"}, {}});
  m.changes.push_back({rules::AddColumn{{"", "users"}, {"nickname", "text"}, "NULL"}, {}});
  set.migrations.push_back(std::move(m));
  return set;
}

rules::RewriteResult rewritten(std::vector<rules::AppliedChange> applied) {
  rules::RewriteResult r;
  r.status = rules::RewriteStatus::kRewritten;
  r.sql = "SELECT 1";
  r.applied = std::move(applied);
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

TEST(Metrics, RewritesAreCountedByMigrationChangeAndTarget) {
  Metrics metrics;
  const auto rules = one_rename("m1");
  metrics.record_rewrite(rules, rewritten({{0, 0}, {0, 1}}), std::chrono::microseconds(3));
  metrics.record_rewrite(rules, rewritten({{0, 0}}), std::chrono::microseconds(3));
  metrics.record_rewrite(rules, rules::RewriteResult::unchanged(), std::chrono::microseconds(3));
  const std::string text = metrics.render({});
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrites_total{migration="m1",change="rename_column",target="app.users.fullname"} 2)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrites_total{migration="m1",change="add_column",target="users.nickname"} 1)"))
      << text;
}

TEST(Metrics, AppliedChangesOutsideTheRuleSetAreIgnored) {
  Metrics metrics;
  metrics.record_rewrite(one_rename("m1"), rewritten({{3, 0}, {0, 9}}), std::chrono::microseconds(1));
  EXPECT_EQ(metrics.render({}).find("pgshim_rewrites_total{"), std::string::npos);
}

TEST(Metrics, LatencyLandsInCumulativeBuckets) {
  Metrics metrics;
  const auto rules = one_rename("m1");
  metrics.record_rewrite(rules, rules::RewriteResult::unchanged(), std::chrono::nanoseconds(400));
  metrics.record_rewrite(rules, rules::RewriteResult::unchanged(), std::chrono::microseconds(7));
  metrics.record_rewrite(rules, rules::RewriteResult::unchanged(), std::chrono::milliseconds(3));
  const std::string text = metrics.render({});
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrite_duration_seconds_bucket{le="1e-06"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrite_duration_seconds_bucket{le="5e-06"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrite_duration_seconds_bucket{le="1e-05"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrite_duration_seconds_bucket{le="0.001"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(pgshim_rewrite_duration_seconds_bucket{le="+Inf"} 3)")) << text;
  EXPECT_TRUE(has_line(text, "pgshim_rewrite_duration_seconds_count 3")) << text;
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics metrics;
  metrics.record_rewrite(one_rename("a\"b\\c\nd"), rewritten({{0, 0}}), std::chrono::microseconds(1));
  EXPECT_NE(metrics.render({}).find(R"(migration="a\"b\\c\nd")"), std::string::npos) << metrics.render({});
}

TEST(Metrics, CountersAndGaugesAreRendered) {
  Metrics metrics;
  metrics.queries_total = 7;
  metrics.upstream_errors_total = 2;
  const std::string text = metrics.render({.client_connections = 3, .rules_version = 5, .cache_hits = 11});
  EXPECT_TRUE(has_line(text, "pgshim_queries_total 7")) << text;
  EXPECT_TRUE(has_line(text, "pgshim_upstream_errors_total 2")) << text;
  EXPECT_TRUE(has_line(text, "pgshim_client_connections 3")) << text;
  EXPECT_TRUE(has_line(text, "pgshim_rules_version 5")) << text;
  EXPECT_TRUE(has_line(text, "pgshim_rewrite_cache_hits_total 11")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE pgshim_queries_total counter")) << text;
}

}  // namespace
}  // namespace pgshim::proxy
