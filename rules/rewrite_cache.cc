#include "rules/rewrite_cache.h"

#include <functional>

namespace pgshim::rules {
namespace {

constexpr std::size_t kShards = 16;

std::size_t mix(std::size_t h, std::uint64_t v) {
  return h ^ (static_cast<std::size_t>(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

}  // namespace

RewriteCache::RewriteCache(std::size_t capacity, std::size_t max_sql_bytes)
    : shards_(std::make_unique<Shard[]>(kShards)),
      shard_count_(kShards),
      per_shard_(capacity / kShards + 1),
      max_sql_bytes_(max_sql_bytes) {}

bool RewriteCache::Equal::operator()(const KeyView& a, const KeyView& b) const {
  return a.hash == b.hash && a.key->rules_generation == b.key->rules_generation &&
         a.key->schema_generation == b.key->schema_generation && a.key->profile == b.key->profile &&
         a.key->sql == b.key->sql;
}

std::size_t RewriteCache::hash_of(const RewriteKey& key) {
  std::size_t h = std::hash<std::string_view>{}(key.sql);
  h = mix(h, key.rules_generation);
  h = mix(h, key.schema_generation);
  h = mix(h, key.profile.active);
  return mix(h, key.profile.speaks_new);
}

std::shared_ptr<const RewriteResult> RewriteCache::find(const RewriteKey& key) {
  const KeyView view{&key, hash_of(key)};
  Shard& shard = shard_for(view.hash);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.index.find(view);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->result;
}

void RewriteCache::insert(const RewriteKey& key, std::shared_ptr<const RewriteResult> result) {
  if (key.sql.size() > max_sql_bytes_) return;
  const std::size_t hash = hash_of(key);
  Shard& shard = shard_for(hash);
  std::lock_guard lock(shard.mutex);
  if (shard.index.find(KeyView{&key, hash}) != shard.index.end()) return;  // another thread was first
  shard.lru.push_front(Entry{std::string(key.sql), key, std::move(result)});
  Entry& entry = shard.lru.front();
  entry.key.sql = entry.sql;
  shard.index.emplace(KeyView{&entry.key, hash}, shard.lru.begin());
  while (shard.lru.size() > per_shard_) {
    const Entry& oldest = shard.lru.back();
    shard.index.erase(KeyView{&oldest.key, hash_of(oldest.key)});
    shard.lru.pop_back();
  }
}

std::shared_ptr<const RewriteResult> RewriteCache::rewrite(const Rewriter& rewriter, std::string_view sql,
                                                           const ClientProfile& profile, const SchemaCache& schema) {
  static const auto kUnchanged = std::make_shared<const RewriteResult>();
  if (!rewriter.may_touch_rules(sql)) return kUnchanged;
  const RewriteKey key{rewriter.instance(), schema.generation(), profile, sql};
  if (auto hit = find(key)) return hit;
  auto result = std::make_shared<const RewriteResult>(rewriter.rewrite(sql, profile, schema));
  insert(key, result);
  return result;
}

void RewriteCache::clear() {
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    shards_[i].index.clear();
    shards_[i].lru.clear();
  }
}

std::size_t RewriteCache::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].lru.size();
  }
  return n;
}

}  // namespace pgshim::rules
