// The differential test of the rewrite engine against a real PostgreSQL (issue
// 3, DESIGN.md section 3's oracle). For each phase and client version, a
// database is taken to that phase with real DDL and the workload runs on it
// through the rewriter, while the same workload runs directly on a reference
// database: never migrated for old clients, fully migrated for new ones. Every
// statement must give the same rows, column names and types and command tag
// (or fail on both), the tables must match afterwards, both columns of a
// rename/retype must stay in step while both exist, and what one version wrote
// the other must read converted.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "rules/rewriter.h"
#include "rules/schema_catalog.h"
#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/pq.h"
#include "tests/integration/rewrite_differential_workload.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::testing {
namespace {

using rules::ClientVersion;
using rules::Phase;

constexpr const char* kOldSchema =
    "CREATE TABLE users (id int PRIMARY KEY, fullname text, email text, legacy_flag boolean DEFAULT false);"
    "CREATE TABLE orders (id int PRIMARY KEY, user_id int, price text);"
    "CREATE TABLE customer (id int PRIMARY KEY, name text);"
    "INSERT INTO users VALUES (1, 'Ann', 'a@x', false), (2, 'Bob', 'b@x', false), (3, 'Cyd', 'c@x', false);"
    "INSERT INTO orders VALUES (1, 1, '9.99'), (2, 1, '1.50'), (3, 2, '20.00');"
    "INSERT INTO customer VALUES (1, 'c1'), (2, 'c2');";
constexpr const char* kNewSchema =
    "CREATE TABLE users (id int PRIMARY KEY, display_name text, email text, nickname text DEFAULT 'anon');"
    "CREATE TABLE orders (id int PRIMARY KEY, user_id int, price_cents bigint);"
    "CREATE TABLE customers (id int PRIMARY KEY, name text);"
    "INSERT INTO users VALUES (1, 'Ann', 'a@x', 'anon'), (2, 'Bob', 'b@x', 'anon'), (3, 'Cyd', 'c@x', 'anon');"
    "INSERT INTO orders VALUES (1, 1, 999), (2, 1, 150), (3, 2, 2000);"
    "INSERT INTO customers VALUES (1, 'c1'), (2, 'c2');";
// The DDL of each phase; backfill runs right after expand so that a write that
// forgets a companion column shows up as a row out of step.
constexpr const char* kExpand =
    "ALTER TABLE users ADD COLUMN display_name text, ADD COLUMN nickname text DEFAULT 'anon';"
    "ALTER TABLE orders ADD COLUMN price_cents bigint;"
    "UPDATE users SET display_name = fullname; UPDATE orders SET price_cents = round(price::numeric * 100)::bigint;";
constexpr const char* kContract =
    "ALTER TABLE users DROP COLUMN fullname, DROP COLUMN legacy_flag; ALTER TABLE orders DROP COLUMN price;"
    "ALTER TABLE customer RENAME TO customers;";

std::string spell(std::string text, ClientVersion version, bool as_param) {
  const bool is_new = version == ClientVersion::kNew;
  const auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
  };
  replace_all("{name}", is_new ? "display_name" : "fullname");
  replace_all("{price}", is_new ? "price_cents" : "price");
  replace_all("{cust}", is_new ? "customers" : "customer");
  for (std::size_t at = text.find("{p:"); at != std::string::npos; at = text.find("{p:")) {
    const std::size_t close = text.find('}', at);
    const std::string value = text.substr(at + 3, close - at - 3);
    std::string cents = value;
    cents.erase(std::remove(cents.begin(), cents.end(), '.'), cents.end());
    cents.erase(0, std::min(cents.find_first_not_of('0'), cents.size() - 1));
    const std::string literal = is_new ? cents : (as_param ? value : "'" + value + "'");
    text.replace(at, close - at + 1, literal);
  }
  return text;
}

// What a client observes of one statement, columns in name order (DESIGN.md
// compares `*` as a set of columns) and rows sorted.
struct Observed {
  bool ok = false;
  std::string status;
  std::vector<std::string> columns;  // "name:type oid"
  std::vector<std::vector<std::string>> rows;
  std::string error;
};

Observed observe(const Result& r, const std::vector<std::string>& masked) {
  Observed o;
  o.ok = r.ok();
  if (!o.ok) {
    o.error = r.sqlstate() + " " + r.error();
    return o;
  }
  o.status = r.command_status();
  std::vector<int> order;
  for (int c = 0; c < r.columns(); ++c) {
    if (std::find(masked.begin(), masked.end(), r.column_name(c)) == masked.end()) order.push_back(c);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return r.column_name(a) < r.column_name(b); });
  for (const int c : order) o.columns.push_back(r.column_name(c) + ":" + std::to_string(r.column_type(c)));
  for (int row = 0; row < r.rows(); ++row) {
    std::vector<std::string> values;
    for (const int c : order) values.push_back(r.is_null(row, c) ? "<null>" : r.value(row, c));
    o.rows.push_back(std::move(values));
  }
  std::sort(o.rows.begin(), o.rows.end());
  return o;
}

class Differential {
 public:
  Differential(Phase phase, ClientVersion version)
      : phase_(phase), version_(version), rules_(rules::testing::fixture_rules(phase)) {
    PgServer& server = PgServer::shared();
    const std::string suffix = std::to_string(static_cast<int>(phase)) + (version == ClientVersion::kNew ? "n" : "o");
    migrated_db_ = "mig_" + suffix;
    reference_db_ = "ref_" + suffix;
    for (const std::string& db : {migrated_db_, reference_db_}) {
      server.exec("DROP DATABASE IF EXISTS " + db);
      server.create_database(db);
    }
    server.exec(kOldSchema, migrated_db_);
    if (phase != Phase::kPlanned) server.exec(kExpand, migrated_db_);
    if (phase == Phase::kContracted) server.exec(kContract, migrated_db_);
    server.exec(version == ClientVersion::kNew ? kNewSchema : kOldSchema, reference_db_);
    migrated_.emplace(server.dsn(migrated_db_));
    reference_.emplace(server.dsn(reference_db_));
    refresh_schema();
    rewriter_ = std::get<std::shared_ptr<const rules::Rewriter>>(rules::Rewriter::create(rules_));
  }

  // The dropped column's writes are dropped in `contracted` (DESIGN.md): an
  // old client reads its default there, so it is not compared.
  std::vector<std::string> masked() const {
    if (phase_ == Phase::kContracted && version_ == ClientVersion::kOld) return {"legacy_flag"};
    return {};
  }

  Observed run_migrated(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                        ClientVersion as, const std::vector<std::string>& mask) {
    const auto r = rewriter_->rewrite(sql, rules::ClientProfile::uniform(as), *schema_);
    if (r.status == rules::RewriteStatus::kError) {
      Observed refused;  // what the proxy answers with ErrorResponse
      refused.error = r.sqlstate + " " + r.message;
      return refused;
    }
    const std::string& text = r.status == rules::RewriteStatus::kRewritten ? r.sql : sql;
    return observe(params.empty() ? migrated_->exec(text) : migrated_->exec_params(text, params), mask);
  }

  Result run_reference(const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    return params.empty() ? reference_->exec(sql) : reference_->exec_params(sql, params);
  }

  void step(const Step& s) {
    if ((s.flags & kOldOnly) && version_ != ClientVersion::kOld) return;
    if ((s.flags & kNewOnly) && version_ != ClientVersion::kNew) return;
    if ((s.flags & kNotContracted) && phase_ == Phase::kContracted) return;
    const std::string sql = spell(s.sql, version_, false);
    std::vector<std::optional<std::string>> params;
    for (const char* p : s.params) params.emplace_back(spell(p, version_, true));
    SCOPED_TRACE(sql);
    const Observed got = run_migrated(sql, params, version_, masked());
    if ((s.flags & kRefusedPlannedNew) && phase_ == Phase::kPlanned) {
      EXPECT_NE(got.error.find("0A000"), std::string::npos) << got.error;
      return;
    }
    const Observed want = observe(run_reference(sql, params), masked());
    ++compared_;
    ASSERT_EQ(got.ok, want.ok) << "through pgshim: " << got.error << "\nreference: " << want.error;
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.columns, want.columns);
    EXPECT_EQ(got.rows, want.rows);
  }

  // Tables as this client sees them, against the reference.
  void compare_tables() {
    for (const char* table : {"users", "orders", "{cust}"}) {
      const std::string sql = spell(std::string("SELECT * FROM ") + table, version_, false);
      SCOPED_TRACE("table " + sql);
      const Observed got = run_migrated(sql, {}, version_, masked());
      const Observed want = observe(run_reference(sql, {}), masked());
      EXPECT_EQ(got.columns, want.columns);
      EXPECT_EQ(got.rows, want.rows);
    }
  }

  // While both columns exist, every row keeps them in step.
  void check_companions() {
    if (phase_ != Phase::kExpanded && phase_ != Phase::kBackfilled) return;
    EXPECT_EQ(migrated_->scalar("SELECT count(*) FROM users WHERE display_name IS DISTINCT FROM fullname"), "0");
    EXPECT_EQ(migrated_->scalar("SELECT count(*) FROM orders WHERE price_cents IS DISTINCT FROM "
                                "round(price::numeric * 100)::bigint"),
              "0");
  }

  // What this version wrote, the other reads converted by up (or down).
  void check_other_version() {
    const bool is_new = version_ == ClientVersion::kNew;
    const ClientVersion other = is_new ? ClientVersion::kOld : ClientVersion::kNew;
    const std::vector<std::pair<std::string, std::string>> pairs =
        is_new ? std::vector<std::pair<std::string, std::string>>{
                     {"SELECT id, fullname FROM users", "SELECT id, display_name AS fullname FROM users"},
                     {"SELECT id, price FROM orders",
                      "SELECT id, (price_cents / 100.0)::numeric(12,2)::text AS price FROM orders"}}
               : std::vector<std::pair<std::string, std::string>>{
                     {"SELECT id, display_name FROM users", "SELECT id, fullname AS display_name FROM users"},
                     {"SELECT id, price_cents FROM orders",
                      "SELECT id, round(price::numeric * 100)::bigint AS price_cents FROM orders"}};
    for (const auto& [through, expected] : pairs) {
      SCOPED_TRACE(through);
      const Observed got = run_migrated(through, {}, other, {});
      const Observed want = observe(run_reference(expected, {}), {});
      ASSERT_TRUE(got.ok) << got.error;
      EXPECT_EQ(got.rows, want.rows);
    }
  }

  void refresh_schema() {
    Result r = migrated_->exec(rules::kSchemaCatalogQuery);
    std::vector<rules::CatalogRow> rows;
    for (int i = 0; i < r.rows(); ++i) {
      rows.push_back({r.value(i, 0), r.value(i, 1), r.value(i, 2), r.value(i, 3), r.value(i, 4) == "t"});
    }
    schema_.emplace(rules::schema_from_catalog(rows, migrated_->scalar("SHOW search_path"), "postgres"));
  }

  [[nodiscard]] int compared() const { return compared_; }

 private:
  Phase phase_;
  ClientVersion version_;
  rules::RuleSet rules_;
  std::string migrated_db_;
  std::string reference_db_;
  std::optional<Conn> migrated_;
  std::optional<Conn> reference_;
  std::optional<rules::StaticSchemaCache> schema_;
  std::shared_ptr<const rules::Rewriter> rewriter_;
  int compared_ = 0;
};

class RewriteDifferential : public ::testing::TestWithParam<std::tuple<Phase, ClientVersion>> {};

TEST_P(RewriteDifferential, MatchesTheReferenceDatabase) {
  const auto [phase, version] = GetParam();
  Differential d(phase, version);
  for (const Step& s : workload()) d.step(s);
  EXPECT_GE(d.compared(), 60);
  d.compare_tables();
  d.check_companions();
  d.check_other_version();
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<Phase, ClientVersion>>& info) {
  static constexpr const char* kNames[] = {"planned", "expanded", "backfilled", "contracted"};
  return std::string(kNames[static_cast<int>(std::get<0>(info.param))]) +
         (std::get<1>(info.param) == ClientVersion::kNew ? "_new" : "_old");
}

INSTANTIATE_TEST_SUITE_P(
    Phases, RewriteDifferential,
    ::testing::Combine(::testing::Values(Phase::kPlanned, Phase::kExpanded, Phase::kBackfilled, Phase::kContracted),
                       ::testing::Values(ClientVersion::kOld, ClientVersion::kNew)),
    case_name);

}  // namespace
}  // namespace pgshim::testing
