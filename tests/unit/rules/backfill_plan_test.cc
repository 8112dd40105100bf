// The SQL of `pgshim backfill`: which changes are copied, which key is walked,
// and the batch, verification and progress statements (their behaviour against a
// real PostgreSQL is in tests/integration/backfill_test.cc).
#include "rules/backfill_plan.h"

#include <gtest/gtest.h>

#include "parser/analysis.h"

namespace pgshim::rules {
namespace {

Migration retype_and_rename() {
  Migration m;
  m.name = "shop_0042";
  m.phase = Phase::kExpanded;
  m.changes.push_back({RetypeColumn{{"", "orders"}, {"price", "text"}, {"price_cents", "bigint"},
                                    "round(price::numeric * 100)::bigint", "(price_cents / 100.0)::text"},
                       {}});
  m.changes.push_back({AddColumn{{"", "users"}, {"nickname", "text"}, "NULL"}, {}});
  m.changes.push_back({RenameColumn{{"", "users"}, "fullname", "display_name"}, {}});
  m.changes.push_back({RenameColumn{{"", "orders"}, "note", "comment"}, {}});
  return m;
}

TableKey id_key() { return TableKey{"orders_pkey", true, {{"id", "integer"}}}; }

TEST(BackfillTargetsTest, GroupsRetypesAndRenamesByTableInRuleOrder) {
  const auto targets = backfill_targets(retype_and_rename());
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0].migration, "shop_0042");
  EXPECT_EQ(targets[0].table.name, "orders");
  ASSERT_EQ(targets[0].copies.size(), 2u);
  EXPECT_EQ(targets[0].copies[0].to, "price_cents");
  EXPECT_EQ(targets[0].copies[0].up, "round(price::numeric * 100)::bigint");
  EXPECT_EQ(targets[0].copies[1].from, "note");
  EXPECT_EQ(targets[0].copies[1].up, "\"note\"");  // a rename copies the column itself
  EXPECT_EQ(targets[1].table.name, "users");
  ASSERT_EQ(targets[1].copies.size(), 1u);
  EXPECT_EQ(targets[1].copies[0].to, "display_name");
}

TEST(BackfillTargetsTest, OnlyTableFiltersAndAddColumnIsNotCopied) {
  const TableName users{"", "users"};
  const auto targets = backfill_targets(retype_and_rename(), &users);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].table.name, "users");
  const TableName other_schema{"archive", "users"};
  Migration m = retype_and_rename();
  m.changes[2].kind = RenameColumn{{"public", "users"}, "fullname", "display_name"};
  EXPECT_TRUE(backfill_targets(m, &other_schema).empty());
}

TEST(ChooseKeyTest, PrefersPrimaryKey) {
  const std::vector<KeyCandidateRow> rows = {
      {"orders_pkey", true, 1, "id", "integer", true},
      {"orders_code_key", false, 1, "code", "text", true},
  };
  const auto key = choose_key(rows);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->index_name, "orders_pkey");
  EXPECT_TRUE(key->primary);
}

TEST(ChooseKeyTest, FallsBackToNarrowestUniqueNotNullIndex) {
  const std::vector<KeyCandidateRow> rows = {
      {"a_wide", false, 1, "region", "text", true},
      {"a_wide", false, 2, "number", "bigint", true},
      {"b_nullable", false, 1, "email", "text", false},
      {"c_code", false, 1, "code", "text", true},
  };
  const auto key = choose_key(rows);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->index_name, "c_code");
  ASSERT_EQ(key->columns.size(), 1u);
  EXPECT_EQ(key->columns[0].type, "text");
}

TEST(ChooseKeyTest, NoUsableKey) {
  EXPECT_FALSE(choose_key({}));
  // Nullable, an expression, or the column being filled: none can page the table.
  EXPECT_FALSE(choose_key({{"by_email", false, 1, "email", "text", false}}));
  EXPECT_FALSE(choose_key({{"by_lower", false, 1, "", "", false}}));
  EXPECT_FALSE(choose_key({{"by_new", false, 1, "display_name", "text", true}}, {"display_name"}));
}

TEST(BackfillPlanTest, FirstAndNextBatchStatements) {
  const auto targets = backfill_targets(retype_and_rename());
  const auto plan = plan_backfill(targets[0], "public", id_key(), 500);
  EXPECT_EQ(plan.qualified_table, "\"public\".\"orders\"");
  EXPECT_EQ(plan.progress_name, "public.orders");
  EXPECT_EQ(plan.key_list, "id");
  const std::string& next = plan.next_batch_sql;
  EXPECT_NE(next.find("SELECT \"id\" AS pgshim_k1 FROM \"public\".\"orders\"\n  WHERE (\"id\") > ($4::integer)\n"
                      "  ORDER BY \"id\" LIMIT 500\n  FOR NO KEY UPDATE"),
            std::string::npos)
      << next;
  EXPECT_NE(next.find("SET \"price_cents\" = (round(price::numeric * 100)::bigint), \"comment\" = (\"note\")"),
            std::string::npos)
      << next;
  EXPECT_NE(next.find("WHERE pgshim_t.\"id\" = pgshim_batch.pgshim_k1\n    AND (pgshim_batch.pgshim_k1 IS NULL OR "),
            std::string::npos)
      << next;
  EXPECT_NE(next.find("AND (pgshim_batch.pgshim_k1 IS NULL OR \"price_cents\" IS DISTINCT FROM (round(price::numeric * 100)::bigint) OR "
                      "\"comment\" IS DISTINCT FROM (\"note\"))"),
            std::string::npos)
      << next;
  EXPECT_NE(next.find("INSERT INTO pgshim_backfill_progress"), std::string::npos);
  EXPECT_EQ(plan.first_batch_sql.find("$4"), std::string::npos) << plan.first_batch_sql;
  EXPECT_NE(plan.first_batch_sql.find("FROM \"public\".\"orders\"\n  ORDER BY \"id\" LIMIT 500"), std::string::npos);
  EXPECT_TRUE(parser::parses(plan.first_batch_sql));
  EXPECT_TRUE(parser::parses(next));
}

TEST(BackfillPlanTest, CompositeKeyUsesRowComparison) {
  const auto targets = backfill_targets(retype_and_rename());
  const TableKey key{"users_region_number_key", false, {{"region", "text"}, {"number", "bigint"}}};
  const auto plan = plan_backfill(targets[1], "app", key, 1000);
  EXPECT_EQ(plan.key_list, "region,number");
  EXPECT_NE(plan.next_batch_sql.find("WHERE (\"region\", \"number\") > ($4::text, $5::bigint)"), std::string::npos)
      << plan.next_batch_sql;
  EXPECT_NE(plan.next_batch_sql.find("pgshim_t.\"region\" = pgshim_batch.pgshim_k1 AND "
                                     "pgshim_t.\"number\" = pgshim_batch.pgshim_k2"),
            std::string::npos);
  // The last key is the batch's greatest row, column by column.
  EXPECT_NE(plan.next_batch_sql.find("(SELECT pgshim_k2::text AS pgshim_last FROM pgshim_batch ORDER BY pgshim_k1 DESC, "
                                     "pgshim_k2 DESC LIMIT 1)"),
            std::string::npos);
  EXPECT_TRUE(parser::parses(plan.next_batch_sql));
  EXPECT_EQ(batch_keys_sql(plan, false),
            "SELECT \"region\"::text, \"number\"::text FROM \"app\".\"users\" WHERE (\"region\", \"number\") > "
            "($1::text, $2::bigint) ORDER BY \"region\", \"number\" LIMIT 1000");
  EXPECT_EQ(row_check_sql(plan),
            "SELECT (\"fullname\") FROM \"app\".\"users\" WHERE \"region\" = $1::text AND \"number\" = $2::bigint");
}

TEST(BackfillPlanTest, VerificationCountsEachCopy) {
  const auto targets = backfill_targets(retype_and_rename());
  const auto plan = plan_backfill(targets[0], "public", id_key(), 10);
  EXPECT_EQ(plan.verify_sql,
            "SELECT count(*) FILTER (WHERE \"price_cents\" IS DISTINCT FROM (round(price::numeric * 100)::bigint)), "
            "count(*) FILTER (WHERE \"comment\" IS DISTINCT FROM (\"note\")) FROM \"public\".\"orders\"");
  EXPECT_TRUE(parser::parses(plan.verify_sql));
}

TEST(BackfillPlanTest, QuotesAwkwardIdentifiers) {
  EXPECT_EQ(quote_identifier("order"), "\"order\"");
  EXPECT_EQ(quote_identifier("We\"ird"), "\"We\"\"ird\"");
  Migration m;
  m.name = "m";
  m.changes.push_back({RenameColumn{{"My Schema", "Order"}, "select", "From"}, {}});
  const auto plan = plan_backfill(backfill_targets(m)[0], "My Schema", {"k", true, {{"user", "integer"}}}, 1);
  EXPECT_EQ(plan.qualified_table, "\"My Schema\".\"Order\"");
  EXPECT_EQ(plan.progress_name, "\"My Schema\".\"Order\"");
  EXPECT_TRUE(parser::parses(plan.next_batch_sql)) << plan.next_batch_sql;
  EXPECT_TRUE(parser::parses(plan.verify_sql));
}

TEST(BackfillPlanTest, ProgressStatementsParse) {
  EXPECT_TRUE(parser::parses(kProgressTableDdl));
  EXPECT_TRUE(parser::parses(kProgressSelect));
  EXPECT_TRUE(parser::parses(kProgressDelete));
  EXPECT_TRUE(parser::parses(kProgressFinish));
  EXPECT_TRUE(parser::parses(kKeyCatalogQuery));
}

}  // namespace
}  // namespace pgshim::rules
