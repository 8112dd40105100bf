// The rules in force and the schema caches, shared by every session of the
// proxy (DESIGN.md section 4). A reload builds a whole new snapshot and swaps it
// in; sessions pick the newest snapshot up at their next transaction boundary,
// so a statement is never rewritten half under old rules and half under new.
// Thread-safe: snapshots are immutable, swaps happen under a mutex.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rules/model.h"
#include "rules/rewrite_cache.h"
#include "rules/rewriter.h"
#include "rules/schema_cache.h"

namespace pgshim::proxy {

struct RulesSnapshot {
  rules::RuleSet rules;
  std::shared_ptr<const rules::Rewriter> rewriter;  // null when there are no rules
  std::uint64_t version = 0;                        // bumps on every successful reload
};

class RulesState {
 public:
  explicit RulesState(std::string rules_dir) : dir_(std::move(rules_dir)) {}

  // Loads the rules directory; on success the new rules replace the old ones and
  // every schema cache is marked stale. On failure the old rules stay and the
  // errors are returned, one "file:line:column: message" each.
  [[nodiscard]] std::vector<std::string> reload();
  // True when a file of the rules directory changed since the last load.
  [[nodiscard]] bool directory_changed() const;

  [[nodiscard]] std::shared_ptr<const RulesSnapshot> snapshot() const;
  // The version of the newest snapshot, without a lock: sessions compare it with
  // theirs at every transaction boundary, on the path of every statement.
  [[nodiscard]] std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

  // The schema cache of `database`, or null when it must be (re)read.
  [[nodiscard]] std::shared_ptr<const rules::StaticSchemaCache> schema(const std::string& database) const;
  void set_schema(const std::string& database, std::shared_ptr<const rules::StaticSchemaCache> schema);
  // After DDL seen through the proxy, or a reload.
  void mark_schema_stale(const std::string& database);
  // Every database's schema cache read so far (for /rules).
  [[nodiscard]] std::map<std::string, std::shared_ptr<const rules::StaticSchemaCache>> schemas() const;
  // The errors of the last reload when it was refused; empty once one succeeds.
  [[nodiscard]] std::vector<std::string> last_errors() const;

  rules::RewriteCache& cache() { return cache_; }

 private:
  using Stamp = std::map<std::filesystem::path, std::filesystem::file_time_type>;
  [[nodiscard]] Stamp stamp() const;

  std::string dir_;
  mutable std::mutex mutex_;
  std::shared_ptr<const RulesSnapshot> snapshot_ = std::make_shared<RulesSnapshot>();
  std::atomic<std::uint64_t> version_{0};
  std::map<std::string, std::shared_ptr<const rules::StaticSchemaCache>> schemas_;
  Stamp loaded_stamp_;
  std::vector<std::string> last_errors_;
  rules::RewriteCache cache_;
};

}  // namespace pgshim::proxy
