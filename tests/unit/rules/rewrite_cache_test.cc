#include "rules/rewrite_cache.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::rules {
namespace {

std::shared_ptr<const Rewriter> make(Phase phase) {
  return std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(testing::fixture_rules(phase)));
}

TEST(RewriteCache, SecondLookupIsAHitWithTheSameResult) {
  RewriteCache cache;
  const auto rewriter = make(Phase::kPlanned);
  const auto schema = testing::fixture_schema(Phase::kPlanned);
  const auto profile = ClientProfile::uniform(ClientVersion::kNew);
  const auto first = cache.rewrite(*rewriter, "SELECT display_name FROM users", profile, schema);
  const auto second = cache.rewrite(*rewriter, "SELECT display_name FROM users", profile, schema);
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first->status, RewriteStatus::kRewritten);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(RewriteCache, PrefilterMissesSkipTheCache) {
  RewriteCache cache;
  const auto rewriter = make(Phase::kPlanned);
  const auto schema = testing::fixture_schema(Phase::kPlanned);
  const auto r = cache.rewrite(*rewriter, "SELECT 1", ClientProfile{}, schema);
  EXPECT_EQ(r->status, RewriteStatus::kUnchanged);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RewriteCache, KeyIncludesProfileRulesAndSchema) {
  RewriteCache cache;
  const auto planned = make(Phase::kPlanned);
  const auto contracted = make(Phase::kContracted);
  const auto schema = testing::fixture_schema(Phase::kPlanned);
  const auto other_schema = testing::fixture_schema(Phase::kPlanned);  // same contents, new generation
  const std::string sql = "SELECT * FROM customer";
  const auto old_client = ClientProfile::uniform(ClientVersion::kOld);
  EXPECT_EQ(cache.rewrite(*planned, sql, old_client, schema)->status, RewriteStatus::kUnchanged);
  EXPECT_EQ(cache.rewrite(*contracted, sql, old_client, schema)->status, RewriteStatus::kRewritten);
  EXPECT_EQ(cache.rewrite(*planned, sql, ClientProfile::uniform(ClientVersion::kNew), schema)->status,
            RewriteStatus::kUnchanged);
  (void)cache.rewrite(*planned, sql, old_client, other_schema);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_EQ(cache.hits(), 0u);
}

TEST(RewriteCache, EvictsTheLeastRecentlyUsed) {
  RewriteCache cache(16, 1024);  // one entry per shard, plus one
  RewriteKey key{1, 1, ClientProfile{}, ""};
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("SELECT " + std::to_string(i));
  for (const std::string& t : texts) {
    key.sql = t;
    cache.insert(key, std::make_shared<const RewriteResult>());
  }
  EXPECT_LE(cache.size(), 16u + 16u);
  key.sql = texts.back();
  EXPECT_NE(cache.find(key), nullptr);
  key.sql = texts.front();
  EXPECT_EQ(cache.find(key), nullptr);
}

TEST(RewriteCache, DoesNotCacheHugeStatements) {
  RewriteCache cache(100, 10);
  const RewriteKey key{1, 1, ClientProfile{}, "SELECT 1234567890"};
  cache.insert(key, std::make_shared<const RewriteResult>());
  EXPECT_EQ(cache.find(key), nullptr);
}

TEST(RewriteCache, ManyThreadsAgree) {
  RewriteCache cache(64);
  const auto rewriter = make(Phase::kExpanded);
  const auto schema = testing::fixture_schema(Phase::kExpanded);
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back("UPDATE users SET display_name = 'x' WHERE id = " + std::to_string(i));
  const auto expected = rewriter->rewrite(texts[7], ClientProfile::uniform(ClientVersion::kNew), schema).sql;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t));  // fixed seeds
      for (int i = 0; i < 2000; ++i) {
        const std::size_t k = random() % texts.size();
        const auto r = cache.rewrite(*rewriter, texts[k], ClientProfile::uniform(ClientVersion::kNew), schema);
        if (r->status != RewriteStatus::kRewritten) ++wrong;
        if (k == 7 && r->sql != expected) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 64u + 16u);
}

}  // namespace
}  // namespace pgshim::rules
