// Random statements for the rewriter (fixed seeds): token-level mutations of
// realistic SQL must never crash it, and whatever it rewrites must parse again.
// Not a replacement for a coverage-guided fuzzer, but it runs in every build.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "parser/analysis.h"
#include "parser/lexer.h"
#include "rules/rewriter.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::rules {
namespace {

const std::vector<std::string>& seeds() {
  static const std::vector<std::string> s = {
      "SELECT u.display_name, o.price_cents FROM users u JOIN orders o ON o.user_id = u.id WHERE o.price_cents > $1",
      "INSERT INTO users (id, fullname, legacy_flag) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
      "fullname = EXCLUDED.fullname RETURNING *",
      "UPDATE orders o SET price = '1.00', user_id = 2 FROM users u WHERE u.id = o.user_id RETURNING o.*",
      "WITH x AS (DELETE FROM customer WHERE id IN (SELECT id FROM customers) RETURNING *) SELECT * FROM x",
      "MERGE INTO orders o USING users u ON o.user_id = u.id WHEN MATCHED THEN UPDATE SET price_cents = 1 "
      "WHEN NOT MATCHED THEN INSERT (id, price_cents) VALUES (u.id, 2)",
      "COPY users (id, display_name) FROM STDIN; COPY orders TO STDOUT",
      "SELECT * FROM users TABLESAMPLE SYSTEM (1) WHERE nickname = 'x' UNION SELECT * FROM ONLY users",
      "UPDATE users SET (display_name, legacy_flag) = (SELECT note, true FROM audit) WHERE id = 1",
  };
  return s;
}

// A pool of tokens that stress the walker: clause words, brackets, names.
const std::vector<std::string> kPool = {
    "(", ")", ",", "users", "orders", "customer", "customers", "display_name", "fullname", "price", "price_cents",
    "nickname", "legacy_flag", "*", "SELECT", "FROM", "WHERE", "AS", "u", "o", ".", "=", "$1", "DEFAULT",
    "RETURNING", "VALUES", "ONLY", "LATERAL", "excluded", "EXCLUDED", "1", "'x'", "::", "int", "ON", "SET"};

std::string mutate(const std::string& sql, std::mt19937& random) {
  parser::TokenList tokens;
  if (!tokens.lex(sql) || tokens.size() == 0) return sql;
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < tokens.size(); ++i) parts.emplace_back(tokens.text(i));
  const int edits = 1 + static_cast<int>(random() % 3);
  for (int e = 0; e < edits && !parts.empty(); ++e) {
    const std::size_t at = random() % parts.size();
    switch (random() % 3) {
      case 0: parts.erase(parts.begin() + static_cast<long>(at)); break;
      case 1: parts.insert(parts.begin() + static_cast<long>(at), kPool[random() % kPool.size()]); break;
      default: parts[at] = kPool[random() % kPool.size()]; break;
    }
  }
  std::string out;
  for (const std::string& p : parts) out += p + " ";
  return out;
}

TEST(RewriterRandom, MutatedStatementsNeverCrashAndRewritesParse) {
  std::mt19937 random(20261121);
  int rewritten = 0;
  for (const Phase phase : {Phase::kPlanned, Phase::kExpanded, Phase::kBackfilled, Phase::kContracted}) {
    const auto schema = testing::fixture_schema(phase);
    const auto rewriter = std::get<std::shared_ptr<const Rewriter>>(Rewriter::create(testing::fixture_rules(phase)));
    for (int i = 0; i < 2000; ++i) {
      const std::string sql = mutate(seeds()[random() % seeds().size()], random);
      const auto version = random() % 2 == 0 ? ClientVersion::kOld : ClientVersion::kNew;
      const RewriteResult r = rewriter->rewrite(sql, ClientProfile::uniform(version), schema);
      if (r.status == RewriteStatus::kRewritten) {
        ++rewritten;
        EXPECT_TRUE(parser::parses(r.sql)) << sql << "\n=> " << r.sql;
      }
    }
  }
  EXPECT_GT(rewritten, 200);  // the mutations still exercise the rewriting paths
}

}  // namespace
}  // namespace pgshim::rules
