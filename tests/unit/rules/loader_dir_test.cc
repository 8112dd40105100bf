// Valid rule files of every change kind, and rules directories.
#include <gtest/gtest.h>

#include <filesystem>

#include "rules/loader.h"
#include "tests/unit/rules/loader_test_util.h"

namespace pgshim::rules {
namespace {

using testing::data_dir;
using testing::TempDir;

template <typename T>
const T& kind_of(const Migration& migration, std::size_t index) {
  return std::get<T>(migration.changes.at(index).kind);
}

TEST(LoaderValidTest, DesignExampleWithEveryChangeKind) {
  const std::filesystem::path file = data_dir() / "full.yaml";
  const LoadResult result = load_rule_file(file);
  ASSERT_TRUE(result.ok()) << format_error(result.errors().at(0));
  ASSERT_EQ(result.rules().migrations.size(), 1u);
  const Migration& m = result.rules().migrations[0];
  EXPECT_EQ(m.name, "shop_0042");
  EXPECT_EQ(m.file, file.string());
  EXPECT_EQ(m.database_glob, "shop");
  EXPECT_EQ(m.phase, Phase::kExpanded);
  EXPECT_EQ(m.old_selector.application_name, "shop-v1*");
  EXPECT_EQ(m.new_selector.application_name, "shop-v2*");
  EXPECT_TRUE(m.new_selector.user.empty());
  EXPECT_EQ(m.default_version, ClientVersion::kOld);
  EXPECT_TRUE(m.strict);
  ASSERT_EQ(m.changes.size(), 5u);

  const auto& rename = kind_of<RenameColumn>(m, 0);
  EXPECT_EQ(rename.table, (TableName{"", "users"}));
  EXPECT_EQ(rename.from, "fullname");
  EXPECT_EQ(rename.to, "display_name");
  EXPECT_EQ(m.changes[0].pos.line, 12);
  EXPECT_EQ(m.changes[0].pos.column, 5);
  EXPECT_EQ(m.changes[0].pos.file, file.string());

  const auto& retype = kind_of<RetypeColumn>(m, 1);
  EXPECT_EQ(retype.table, (TableName{"", "orders"}));
  EXPECT_EQ(retype.from.name, "price");
  EXPECT_EQ(retype.from.type, "text");
  EXPECT_EQ(retype.to.name, "price_cents");
  EXPECT_EQ(retype.to.type, "bigint");
  EXPECT_EQ(retype.up, "round(price::numeric * 100)::bigint");
  EXPECT_EQ(retype.down, "(price_cents / 100.0)::numeric(12,2)::text");

  const auto& add = kind_of<AddColumn>(m, 2);
  EXPECT_EQ(add.column.name, "nickname");
  EXPECT_EQ(add.column.type, "text");
  EXPECT_EQ(add.default_sql, "NULL");

  const auto& drop = kind_of<DropColumn>(m, 3);
  EXPECT_EQ(drop.column.name, "legacy_flag");
  EXPECT_EQ(drop.column.type, "boolean");
  EXPECT_EQ(drop.default_sql, "false");

  const auto& table = kind_of<RenameTable>(m, 4);
  EXPECT_EQ(table.from, (TableName{"", "customer"}));
  EXPECT_EQ(table.to, (TableName{"", "customers"}));
  EXPECT_EQ(m.changes[4].pos.line, 30);
}

TEST(LoaderValidTest, DefaultsWhenOptionalKeysAreAbsent) {
  const LoadResult result = load_rule_text(
      "migration: m\n"
      "changes:\n"
      "  - add_column: { table: t, column: { name: c, type: \"timestamp with time zone\" } }\n"
      "  - drop_column:\n"
      "      table: t\n"
      "      column: { name: d, type: \"text[]\" }\n"
      "      default: NULL\n",
      "m.yaml");
  ASSERT_TRUE(result.ok()) << format_error(result.errors().at(0));
  const Migration& m = result.rules().migrations.at(0);
  EXPECT_EQ(m.phase, Phase::kPlanned);
  EXPECT_TRUE(m.database_glob.empty());
  EXPECT_TRUE(m.old_selector.empty());
  EXPECT_TRUE(m.new_selector.empty());
  EXPECT_EQ(m.default_version, ClientVersion::kOld);
  EXPECT_TRUE(m.strict);
  EXPECT_EQ(kind_of<AddColumn>(m, 0).default_sql, "NULL");
  EXPECT_EQ(kind_of<AddColumn>(m, 0).column.type, "timestamp with time zone");
  EXPECT_EQ(kind_of<DropColumn>(m, 1).default_sql, "NULL");  // YAML's null
}

TEST(LoaderValidTest, IdentifiersFoldLikePostgres) {
  const LoadResult result = load_rule_text(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: '\"Shop\".Users', from: FullName, to: '\"DisplayName\"' }\n"
      "  - rename_table: { from: '\"a\"\"b\"', to: '\"a.b\"' }\n",
      "m.yaml");
  ASSERT_TRUE(result.ok()) << format_error(result.errors().at(0));
  const Migration& m = result.rules().migrations.at(0);
  EXPECT_EQ(kind_of<RenameColumn>(m, 0).table, (TableName{"Shop", "users"}));
  EXPECT_EQ(kind_of<RenameColumn>(m, 0).from, "fullname");
  EXPECT_EQ(kind_of<RenameColumn>(m, 0).to, "DisplayName");
  EXPECT_EQ(kind_of<RenameTable>(m, 1).from, (TableName{"", "a\"b"}));
  EXPECT_EQ(kind_of<RenameTable>(m, 1).to, (TableName{"", "a.b"}));
}

TEST(LoaderValidTest, QuotedColumnInExpressions) {
  const LoadResult result = load_rule_text(
      "migration: m\n"
      "changes:\n"
      "  - retype_column:\n"
      "      table: t\n"
      "      from: { column: '\"Price\"', type: text }\n"
      "      to: { column: Cents, type: bigint }\n"
      "      up: '\"Price\"::bigint'\n"
      "      down: CENTS::text\n",
      "m.yaml");
  ASSERT_TRUE(result.ok()) << format_error(result.errors().at(0));
}

TEST(LoaderValidTest, EveryLoadGetsANewGeneration) {
  const LoadResult a = load_rule_file(data_dir() / "full.yaml");
  const LoadResult b = load_rule_file(data_dir() / "full.yaml");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a.rules().generation, 0u);
  EXPECT_GT(b.rules().generation, a.rules().generation);
}

TEST(LoaderDirTest, LoadsYamlAndYmlSortedByName) {
  const LoadResult result = load_rules_dir(data_dir() / "shop");
  ASSERT_TRUE(result.ok()) << format_error(result.errors().at(0));
  const auto& migrations = result.rules().migrations;
  ASSERT_EQ(migrations.size(), 3u);  // not README.txt, not .hidden.yaml
  EXPECT_EQ(migrations[0].name, "shop_0010");
  EXPECT_EQ(migrations[1].name, "shop_0020");
  EXPECT_EQ(migrations[2].name, "crm_0030");
  EXPECT_EQ(migrations[0].new_selector.user, "app_*");
  EXPECT_EQ(kind_of<RenameColumn>(migrations[0], 0).table, (TableName{"public", "users"}));
  EXPECT_EQ(migrations[1].database_glob, "shop*");
  EXPECT_FALSE(migrations[1].strict);
  EXPECT_EQ(kind_of<RetypeColumn>(migrations[1], 0).table, (TableName{"sales", "Orders"}));
  EXPECT_EQ(kind_of<RetypeColumn>(migrations[1], 0).up, "round(price::numeric * 100)::bigint");
  EXPECT_EQ(migrations[2].phase, Phase::kContracted);
  EXPECT_EQ(migrations[2].default_version, ClientVersion::kNew);
  EXPECT_EQ(migrations[2].file, (data_dir() / "shop" / "30_customers.yaml").string());
}

TEST(LoaderDirTest, EmptyDirectoryIsAnEmptyRuleSet) {
  const TempDir dir;
  const LoadResult result = load_rules_dir(dir.path());
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.rules().migrations.empty());
  EXPECT_NE(result.rules().generation, 0u);
}

TEST(LoaderDirTest, MissingDirectory) {
  const LoadResult result = load_rules_dir("/nonexistent/pgshim-rules");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(format_error(result.errors().at(0)),
            "/nonexistent/pgshim-rules: is not a readable directory; point --rules at the "
            "directory that holds the rule files");
}

TEST(LoaderDirTest, MissingFile) {
  const LoadResult result = load_rule_file("/nonexistent/m.yaml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(format_error(result.errors().at(0)),
            "/nonexistent/m.yaml: cannot read the file (No such file or directory); check that "
            "it exists and is readable");
}

TEST(LoaderDirTest, TwoMigrationsChangingOneColumn) {
  const std::filesystem::path dir = data_dir() / "conflict";
  const LoadResult result = load_rules_dir(dir);
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 1u) << format_error(result.errors()[1]);
  EXPECT_EQ(result.errors()[0],
            (LoadError{(dir / "b.yaml").string(), 7, 5,
                       "column public.users.fullname is also changed by migration 'a' (" +
                           (dir / "a.yaml").string() +
                           ":3:5); two active migrations cannot change the same column: finish "
                           "that one (contracted, then remove its file) first"}));
}

TEST(LoaderDirTest, RenamedTableChangedByAnotherMigration) {
  const TempDir dir;
  dir.write("1.yaml", "migration: a\nchanges:\n  - rename_table: { from: customer, to: clients }\n");
  dir.write("2.yaml",
            "migration: b\nchanges:\n"
            "  - add_column: { table: clients, column: { name: n, type: int } }\n");
  const LoadResult result = load_rules_dir(dir.path());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 1u);
  EXPECT_EQ(result.errors()[0].message,
            "table clients is also changed by migration 'a' (" + (dir.path() / "1.yaml").string() +
                ":3:5); a table being renamed cannot be changed by another active migration: "
                "finish that one (contracted, then remove its file) first");
}

TEST(LoaderDirTest, DuplicateMigrationNames) {
  const TempDir dir;
  dir.write("a.yaml", "migration: same\nchanges:\n  - rename_table: { from: x, to: y }\n");
  dir.write("b.yml", "# second\nmigration:   same\nchanges:\n  - rename_table: { from: p, to: q }\n");
  const LoadResult result = load_rules_dir(dir.path());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 1u);
  EXPECT_EQ(result.errors()[0],
            (LoadError{(dir.path() / "b.yml").string(), 2, 14,
                       "migration name 'same' is already used by " +
                           (dir.path() / "a.yaml").string() +
                           ":1:12; give each migration a unique name"}));
}

TEST(LoaderDirTest, ErrorsOfEveryFileAreReported) {
  const TempDir dir;
  dir.write("a.yaml", "migration: a\nchanges: [\n");
  dir.write("b.yaml", "migration: b\nphase: nope\nchanges:\n  - rename_table: { from: x, to: y }\n");
  dir.write("c.yaml", "migration: c\nchanges:\n  - rename_table: { from: p, to: q }\n");
  const LoadResult result = load_rules_dir(dir.path());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors().size(), 2u);
  EXPECT_EQ(result.errors()[0].file, (dir.path() / "a.yaml").string());
  EXPECT_EQ(result.errors()[1].file, (dir.path() / "b.yaml").string());
}

}  // namespace
}  // namespace pgshim::rules
