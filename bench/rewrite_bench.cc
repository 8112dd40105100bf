// Micro-benchmarks of the rewrite engine (issue 3 targets): the pre-filter on a
// statement that touches no rule (< 1 µs), a cache hit (< 1 µs), and uncached
// rewrites of a primary-key SELECT, an INSERT ... RETURNING, an UPDATE (< 10 µs
// each) and a 3-table join (< 40 µs). Figures and the command: bench/README.md.
#include <benchmark/benchmark.h>

#include <string>

#include "parser/analysis.h"
#include "rules/rewrite_cache.h"
#include "rules/rewriter.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::rules {
namespace {

// A new client while the migrations are `expanded`: every rule table is read
// through a projection and writes go to both columns, the costliest phase.
struct Setup {
  Setup()
      : schema(testing::fixture_schema(Phase::kExpanded)),
        rewriter(std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(testing::fixture_rules(Phase::kExpanded)))),
        profile(ClientProfile::uniform(ClientVersion::kNew)) {}
  StaticSchemaCache schema;
  std::shared_ptr<const Rewriter> rewriter;
  ClientProfile profile;
};

const Setup& setup() {
  static const Setup s;
  return s;
}

constexpr const char* kNoRule = "SELECT id, note, created_at FROM audit WHERE id = $1 AND note <> 'x' ORDER BY id LIMIT 10";
constexpr const char* kPkSelect = "SELECT * FROM users WHERE id = $1";
constexpr const char* kInsert =
    "INSERT INTO users (id, display_name, email) VALUES ($1, $2, $3) RETURNING id, display_name";
constexpr const char* kUpdate = "UPDATE users SET display_name = $1, email = $2 WHERE id = $3";
constexpr const char* kJoin =
    "SELECT u.id, u.display_name, o.price_cents, c.name FROM users u JOIN orders o ON o.user_id = u.id "
    "JOIN customers c ON c.id = u.id WHERE u.id = $1 AND o.price_cents > $2 ORDER BY o.id DESC LIMIT 20";

void rewrite(benchmark::State& state, const char* sql) {
  const Setup& s = setup();
  for (auto _ : state) {
    RewriteResult r = s.rewriter->rewrite(sql, s.profile, s.schema);
    benchmark::DoNotOptimize(r);
  }
}

void BM_PrefilterMiss(benchmark::State& state) { rewrite(state, kNoRule); }
void BM_RewritePkSelect(benchmark::State& state) { rewrite(state, kPkSelect); }
void BM_RewriteInsertReturning(benchmark::State& state) { rewrite(state, kInsert); }
void BM_RewriteUpdate(benchmark::State& state) { rewrite(state, kUpdate); }
void BM_RewriteJoin3(benchmark::State& state) { rewrite(state, kJoin); }

void BM_CacheHit(benchmark::State& state) {
  const Setup& s = setup();
  RewriteCache cache;
  (void)cache.rewrite(*s.rewriter, kJoin, s.profile, s.schema);
  for (auto _ : state) {
    auto r = cache.rewrite(*s.rewriter, kJoin, s.profile, s.schema);
    benchmark::DoNotOptimize(r);
  }
}

// What the raw parse and tree walk alone cost, for comparison with the rewrites.
void BM_AnalyzeJoin3(benchmark::State& state) {
  for (auto _ : state) {
    parser::Analysis a(kJoin);
    benchmark::DoNotOptimize(a.model());
  }
}

BENCHMARK(BM_PrefilterMiss);
BENCHMARK(BM_CacheHit);
BENCHMARK(BM_RewritePkSelect);
BENCHMARK(BM_RewriteInsertReturning);
BENCHMARK(BM_RewriteUpdate);
BENCHMARK(BM_RewriteJoin3);
BENCHMARK(BM_AnalyzeJoin3);

}  // namespace
}  // namespace pgshim::rules
