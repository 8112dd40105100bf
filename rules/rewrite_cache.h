// Maps (rules generation, schema generation, client profile, SQL text) to a
// rewrite result, so that a steady workload costs a hash lookup instead of a
// parse (DESIGN.md section 4). Thread-safe: the proxy's threads share one
// cache. Sharded by hash, each shard a small LRU behind its own mutex; a miss
// computes outside any lock (two threads may compute the same entry once each,
// which is harmless: results are pure functions of the key).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rules/rewrite_result.h"
#include "rules/rewriter.h"
#include "rules/schema_cache.h"

namespace pgshim::rules {

struct RewriteKey {
  std::uint64_t rules_generation = 0;  // Rewriter::instance()
  std::uint64_t schema_generation = 0;
  ClientProfile profile;
  std::string_view sql;
};

class RewriteCache {
 public:
  // `capacity`: entries kept in all; SQL longer than `max_sql_bytes` is never
  // cached (one-off bulk statements would only evict useful entries).
  explicit RewriteCache(std::size_t capacity = 16384, std::size_t max_sql_bytes = 16384);

  [[nodiscard]] std::shared_ptr<const RewriteResult> find(const RewriteKey& key);
  void insert(const RewriteKey& key, std::shared_ptr<const RewriteResult> result);

  // The cached result, or the rewriter's (then cached). Statements the
  // pre-filter clears are answered without touching the cache.
  [[nodiscard]] std::shared_ptr<const RewriteResult> rewrite(const Rewriter& rewriter, std::string_view sql,
                                                             const ClientProfile& profile, const SchemaCache& schema);

  void clear();
  [[nodiscard]] std::uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::string sql;
    RewriteKey key;  // key.sql views `sql`; list nodes never move
    std::shared_ptr<const RewriteResult> result;
  };
  using Lru = std::list<Entry>;
  struct KeyView {
    const RewriteKey* key;
    std::size_t hash;
  };
  struct Hash {
    std::size_t operator()(const KeyView& k) const { return k.hash; }
  };
  struct Equal {
    bool operator()(const KeyView& a, const KeyView& b) const;
  };
  struct Shard {
    std::mutex mutex;
    Lru lru;  // most recently used first
    std::unordered_map<KeyView, Lru::iterator, Hash, Equal> index;
  };

  [[nodiscard]] static std::size_t hash_of(const RewriteKey& key);
  [[nodiscard]] Shard& shard_for(std::size_t hash) const { return shards_[hash % shard_count_]; }

  std::unique_ptr<Shard[]> shards_;
  std::size_t shard_count_;
  std::size_t per_shard_;
  std::size_t max_sql_bytes_;
  std::atomic<std::uint64_t> hits_{0};
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace pgshim::rules
