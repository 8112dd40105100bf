// Every error the rule loader reports: its message (which says how to fix it) and
// its exact line:column.
#include <gtest/gtest.h>

#include "rules/loader.h"
#include "tests/unit/rules/loader_test_util.h"

namespace pgshim::rules {
namespace {

using testing::errors_of;
using testing::expect_error;

TEST(LoaderErrorTest, YamlSyntaxError) {
  expect_error("migration: m\nchanges: [a, b\nphase: planned\n", 3, 6,
               "invalid YAML: end of sequence flow not found; close the '[' with ']'");
}

TEST(LoaderErrorTest, YamlBadIndentation) {
  expect_error("migration: m\nchanges:\n  - rename_column:\n      table: users\n     from: a\n",
               5, 6,
               "invalid YAML: end of map not found; check the indentation: the keys of one "
               "mapping, and the '- ' items of one list, must start in the same column");
}

TEST(LoaderErrorTest, YamlUnquotedColon) {
  expect_error("migration: a: b\n", 1, 13,
               "invalid YAML: illegal map value; a value that contains ': ' must be quoted");
}

TEST(LoaderErrorTest, UnknownTopLevelKeySuggestsClosest) {
  expect_error(
      "migration: m\n"
      "chnages:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      2, 1, "unknown key 'chnages'; did you mean 'changes'?");
}

TEST(LoaderErrorTest, UnknownKeyWithoutCloseMatchListsValidKeys) {
  expect_error(
      "migration: m\n"
      "owner: me\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      2, 1,
      "unknown key 'owner'; valid keys here are migration, database, phase, versions, strict "
      "or changes");
}

TEST(LoaderErrorTest, UnknownNestedKeySuggestsClosest) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "      tabel: users\n"
      "      from: a\n"
      "      to: b\n",
      4, 7, "unknown key 'tabel'; did you mean 'table'?");
}

TEST(LoaderErrorTest, RepeatedKey) {
  expect_error(
      "migration: m\n"
      "phase: planned\n"
      "phase: expanded\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 1, "'phase' is given twice in the file (first at line 2); keep only one");
}

TEST(LoaderErrorTest, MissingMigration) {
  expect_error("changes:\n  - rename_column: { table: users, from: a, to: b }\n", 1, 1,
               "the file is missing 'migration'; add 'migration: <unique name>'");
}

TEST(LoaderErrorTest, MissingChanges) {
  expect_error("migration: m\nphase: planned\n", 1, 1,
               "the file is missing 'changes'; add 'changes: <list of changes>'");
}

TEST(LoaderErrorTest, EmptyChanges) {
  expect_error("migration: m\nchanges: []\n", 2, 10,
               "'changes' must be a non-empty list of changes; add items such as "
               "'- rename_column: { table: t, from: a, to: b }'");
}

TEST(LoaderErrorTest, EmptyMigrationName) {
  expect_error("migration:\nchanges:\n  - rename_column: { table: users, from: a, to: b }\n", 1,
               1, "'migration' is empty; write 'migration: <unique name>'");
}

TEST(LoaderErrorTest, BadPhaseSuggestsAndListsValidOnes) {
  expect_error(
      "migration: m\n"
      "phase: expandd\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      2, 8,
      "invalid phase 'expandd'; did you mean 'expanded'? (valid phases: planned, expanded, "
      "backfilled and contracted)");
}

TEST(LoaderErrorTest, BadPhaseListsValidOnes) {
  expect_error(
      "migration: m\n"
      "phase: done\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      2, 8, "invalid phase 'done'; use planned, expanded, backfilled or contracted");
}

TEST(LoaderErrorTest, BadDefaultVersion) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  default: newer\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 12, "invalid default version 'newer'; use old or new");
}

TEST(LoaderErrorTest, BadSelectorKey) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  old: { app: \"v1*\" }\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 10,
      "unknown selector key 'app'; selectors match only application_name, user and database");
}

TEST(LoaderErrorTest, BadSelectorKeySuggestsClosest) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  new:\n"
      "    application: \"v2*\"\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      4, 5,
      "unknown selector key 'application'; did you mean 'application_name'? (selectors match "
      "only application_name, user and database)");
}

TEST(LoaderErrorTest, SelectorMustBeAMapping) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  old: shop-v1*\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 8,
      "'old' must be a mapping like { application_name: \"shop-v1*\" }, not a single value; "
      "write it in that form");
}

TEST(LoaderErrorTest, EmptySelector) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  old: {}\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 3,
      "'old' is an empty selector; give application_name, user or database (globs), or "
      "remove 'old'");
}

TEST(LoaderErrorTest, IdenticalSelectors) {
  expect_error(
      "migration: m\n"
      "versions:\n"
      "  old: { user: app }\n"
      "  new: { user: app }\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      4, 3,
      "'new' selects the same clients as 'old', so no client can be told apart; change one "
      "of them");
}

TEST(LoaderErrorTest, BadStrict) {
  expect_error(
      "migration: m\n"
      "strict: maybe\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      2, 9, "'strict' must be true or false, not 'maybe'");
}

TEST(LoaderErrorTest, ChangeWithNoKind) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - table: users\n"
      "    from: a\n",
      3, 5,
      "a change needs exactly one kind, but this one has none; start it with rename_column, "
      "retype_column, add_column, drop_column or rename_table");
}

TEST(LoaderErrorTest, EmptyChangeHasNoKind) {
  expect_error("migration: m\nchanges:\n  - {}\n", 3, 5,
               "a change needs exactly one kind, but this one has none; start it with "
               "rename_column, retype_column, add_column, drop_column or rename_table");
}

TEST(LoaderErrorTest, EmptyListItem) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  -\n"
      "  - rename_column: { table: users, from: a, to: b }\n",
      3, 3,
      "a change must be a mapping that starts with its kind (rename_column, retype_column, "
      "add_column, drop_column or rename_table); write it as '- rename_column:' with the "
      "fields indented below");
}

TEST(LoaderErrorTest, MisspeltChangeKind) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - renam_column: { table: users, from: a, to: b }\n",
      3, 5, "unknown change kind 'renam_column'; did you mean 'rename_column'?");
}

TEST(LoaderErrorTest, ChangeWithTwoKinds) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a, to: b }\n"
      "    drop_column: { table: users, column: { name: c, type: text } }\n",
      4, 5,
      "a change has exactly one kind, but this one has two ('rename_column' and "
      "'drop_column'); start a new list item ('- ') for 'drop_column'");
}

TEST(LoaderErrorTest, FieldNotIndentedUnderKind) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "    table: users\n",
      4, 5,
      "'table' is not indented under 'rename_column'; indent it further so that it belongs to "
      "rename_column");
}

TEST(LoaderErrorTest, KindWithoutFields) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table:\n",
      3, 5,
      "'rename_table' must be a mapping like { from: customer, to: customers }, not empty; "
      "write it in that form");
}

TEST(LoaderErrorTest, MissingTo) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table: users\n"
      "      from: fullname\n",
      3, 5, "'rename_column' is missing 'to'; add 'to: <new column name>'");
}

TEST(LoaderErrorTest, MissingFrom) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table:\n"
      "      to: customers\n",
      3, 5, "'rename_table' is missing 'from'; add 'from: <old table name>'");
}

TEST(LoaderErrorTest, MissingTable) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - drop_column:\n"
      "      column: { name: flag, type: boolean }\n",
      3, 5, "'drop_column' is missing 'table'; add 'table: <table name>'");
}

TEST(LoaderErrorTest, MissingColumn) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - add_column:\n"
      "      table: users\n",
      3, 5, "'add_column' is missing 'column'; add 'column: { name: nickname, type: text }'");
}

TEST(LoaderErrorTest, MissingType) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - retype_column:\n"
      "      table: orders\n"
      "      from: { column: price }\n"
      "      to: { column: price_cents, type: bigint }\n"
      "      up: price::bigint\n"
      "      down: price_cents::text\n",
      5, 7, "'from' is missing 'type'; add 'type: <SQL type>'");
}

TEST(LoaderErrorTest, MissingColumnOfRetypeSide) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - retype_column:\n"
      "      table: orders\n"
      "      from: { column: price, type: text }\n"
      "      to: { type: bigint }\n"
      "      up: price::bigint\n"
      "      down: price_cents::text\n",
      6, 7, "'to' is missing 'column'; add 'column: <column name>'");
}

TEST(LoaderErrorTest, MissingUp) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - retype_column:\n"
      "      table: orders\n"
      "      from: { column: price, type: text }\n"
      "      to: { column: price_cents, type: bigint }\n"
      "      down: price_cents::text\n",
      3, 5,
      "'retype_column' is missing 'up'; add 'up: <SQL expression in terms of price>'");
}

TEST(LoaderErrorTest, EmptyIdentifier) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table: users\n"
      "      from: fullname\n"
      "      to: \"\"\n",
      6, 11, "'to' is empty; write 'to: <new column name>'");
}

TEST(LoaderErrorTest, NullIdentifierPointsAtKey) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table:\n"
      "      from: fullname\n"
      "      to: display_name\n",
      4, 7, "'table' is empty; write 'table: <table name>'");
}

TEST(LoaderErrorTest, EmptyQuotedIdentifier) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table: users\n"
      "      from: '\"\"'\n"
      "      to: display_name\n",
      5, 13,
      "'from': '\"\"' is an empty quoted identifier; put a name between the double quotes");
}

TEST(LoaderErrorTest, EmptySchemaOrTablePart) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table: { from: public., to: customers }\n",
      3, 27,
      "'from': 'public.' has an empty name next to a dot; remove the dot or add the name");
}

TEST(LoaderErrorTest, IdentifierNeedingQuotes) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: users, from: full name, to: b }\n",
      3, 42,
      "'from': 'full name' contains ' ', which an unquoted identifier cannot; double-quote "
      "it, e.g. '\"full name\"'");
}

TEST(LoaderErrorTest, TooManyDots) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: db.public.users, from: a, to: b }\n",
      3, 29, "'table': 'db.public.users' has too many dots; write table or schema.table");
}

TEST(LoaderErrorTest, QualifiedColumn) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: users, from: users.a, to: b }\n",
      3, 42,
      "'from': 'users.a' is a qualified name; give just the column name (the table is given "
      "by 'table')");
}

TEST(LoaderErrorTest, BadType) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - add_column:\n"
      "      table: users\n"
      "      column: { name: n, type: \"numeric(12,\" }\n",
      5, 32,
      "'type': 'numeric(12,' is not an SQL type name (syntax error at or near \")\"); write a "
      "type as in a cast, e.g. bigint or numeric(12,2)");
}

TEST(LoaderErrorTest, TypeThatSmugglesAClause) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - add_column:\n"
      "      table: users\n"
      "      column: { name: n, type: \"int) FROM users WHERE (true\" }\n",
      5, 32,
      "'type': 'int) FROM users WHERE (true' is not an SQL type name (it is not a single type "
      "name); write a type as in a cast, e.g. bigint or numeric(12,2)");
}

constexpr std::string_view kRetypeHead =
    "migration: m\n"
    "changes:\n"
    "  - retype_column:\n"
    "      table: orders\n"
    "      from: { column: price, type: text }\n"
    "      to: { column: price_cents, type: bigint }\n";

TEST(LoaderErrorTest, UpDoesNotParse) {
  expect_error(std::string(kRetypeHead) +
                   "      up: \"round(price::numeric * 100\"\n"
                   "      down: price_cents::text\n",
               7, 11,
               "'up' does not parse as an SQL expression: syntax error at end of input; write one SQL expression in terms of price");
}

TEST(LoaderErrorTest, DownDoesNotParse) {
  expect_error(std::string(kRetypeHead) +
                   "      up: price::bigint\n"
                   "      down: price_cents / / 100\n",
               8, 13,
               "'down' does not parse as an SQL expression: syntax error at or near \"/\" (at "
               "character 15); write one SQL expression in terms of price_cents");
}

TEST(LoaderErrorTest, UpThatIsNotOneExpression) {
  expect_error(std::string(kRetypeHead) +
                   "      up: \"price::bigint) FROM orders WHERE (true\"\n"
                   "      down: price_cents::text\n",
               7, 11,
               "'up' does not parse as an SQL expression: it is not a single expression (it "
               "closes its parentheses or adds clauses); write one SQL expression in terms of "
               "price");
}

TEST(LoaderErrorTest, UpDoesNotMentionFromColumn) {
  expect_error(std::string(kRetypeHead) +
                   "      up: \"'price'::text::bigint\"\n"
                   "      down: price_cents::text\n",
               7, 11,
               "'up' does not mention the from column price; write it in terms of price, "
               "which the proxy replaces by the value being converted");
}

TEST(LoaderErrorTest, DownDoesNotMentionToColumn) {
  expect_error(std::string(kRetypeHead) +
                   "      up: price::bigint\n"
                   "      down: price::text\n",
               8, 13,
               "'down' does not mention the to column price_cents; write it in terms of "
               "price_cents, which the proxy replaces by the value being converted");
}

TEST(LoaderErrorTest, UpRefersToAnotherColumn) {
  expect_error(std::string(kRetypeHead) +
                   "      up: price::bigint * quantity\n"
                   "      down: price_cents::text\n",
               7, 11,
               "'up' refers to column quantity; it may use only the from column price, which "
               "the proxy replaces by the value being converted");
}

TEST(LoaderErrorTest, UpUsesBindParameter) {
  expect_error(std::string(kRetypeHead) +
                   "      up: price::bigint + $1\n"
                   "      down: price_cents::text\n",
               7, 11, "'up' uses a bind parameter; write it in terms of the from column price only");
}

TEST(LoaderErrorTest, RetypeKeepingTheColumnName) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - retype_column:\n"
      "      table: orders\n"
      "      from: { column: price, type: text }\n"
      "      to: { column: price, type: bigint }\n"
      "      up: price::bigint\n"
      "      down: price::text\n",
      6, 11,
      "retype_column keeps the column name price, but the old and new columns exist side by "
      "side; give 'to' a new column name, e.g. price_new");
}

TEST(LoaderErrorTest, BadDefault) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - drop_column:\n"
      "      table: users\n"
      "      column: { name: flag, type: boolean }\n"
      "      default: \"fals e)\"\n",
      6, 16,
      "'default' does not parse as an SQL expression: syntax error at or near \"e\" (at "
      "character 6); write one SQL expression such as NULL, false or 'n/a' (quoted for YAML)");
}

TEST(LoaderErrorTest, SameColumnTwiceInOneMigration) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: users, from: fullname, to: display_name }\n"
      "  - drop_column:\n"
      "      table: Users\n"
      "      column: { name: FullName, type: text }\n",
      4, 5,
      "column users.fullname is also changed by the change at line 3; change each column only "
      "once per migration (merge the two changes)");
}

TEST(LoaderErrorTest, RenamedTableWithAnotherChangeInOneMigration) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table: { from: customer, to: customers }\n"
      "  - add_column:\n"
      "      table: public.customers\n"
      "      column: { name: nick, type: text }\n",
      4, 5,
      "table public.customers is also changed by the change at line 3; a table being renamed "
      "cannot have other changes in the same migration, so move one to another migration");
}

TEST(LoaderErrorTest, RenameColumnToItself) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_column: { table: users, from: Name, to: name }\n",
      3, 52, "rename_column renames name to itself; set 'to' to the new column name");
}

TEST(LoaderErrorTest, RenameTableToItself) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table:\n"
      "      from: public.customer\n"
      "      to: PUBLIC.Customer\n",
      5, 11, "rename_table renames public.customer to itself; set 'to' to the new table name");
}

TEST(LoaderErrorTest, RenameTableAcrossSchemas) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table: { from: a.customer, to: b.customers }\n",
      3, 43,
      "rename_table cannot move a table to another schema (a to b); keep the schema of 'from' "
      "or leave it out of 'to'");
}

TEST(LoaderErrorTest, EmptyFile) {
  expect_error("# nothing yet\n", 1, 1,
               "the file is empty; a rule file needs at least 'migration' and 'changes'");
}

TEST(LoaderErrorTest, TopLevelNotAMapping) {
  expect_error("- migration: m\n", 1, 1,
               "a rule file must be a mapping with keys such as migration, phase, versions and "
               "changes; write 'migration: <name>' and so on");
}

TEST(LoaderErrorTest, SeveralDocuments) {
  expect_error(
      "migration: m\n"
      "changes:\n"
      "  - rename_table: { from: a, to: b }\n"
      "---\n"
      "migration: n\n",
      4, 1, "the file holds more than one YAML document; put each migration in a file of its "
      "own");
}

TEST(LoaderErrorTest, StrayFlowIndicatorDoesNotHang) {
  // yaml-cpp 0.7's LoadAll loops forever, allocating, on this (jbeder/yaml-cpp#1040).
  expect_error(", migration: m\n", 1, 1,
               "invalid YAML: unexpected ','; ',', ']' and '}' belong inside [ ] or { }; quote "
               "the value or remove the character");
  EXPECT_EQ(errors_of("]\n").size(), 1u);
  EXPECT_EQ(errors_of("}\n").size(), 1u);
}

TEST(LoaderErrorTest, ReportsEveryErrorSorted) {
  const std::vector<LoadError> errors = errors_of(
      "migration: m\n"
      "phase: later\n"
      "versions: { default: newer }\n"
      "changes:\n"
      "  - rename_column: { table: users, from: a }\n"
      "  - rename_table: { from: customer, to: customer }\n");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].line, 2);
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[2].line, 5);
  EXPECT_EQ(errors[3].line, 6);
  EXPECT_EQ(format_error(errors[1]), "m.yaml:3:22: invalid default version 'newer'; use old or new");
}

}  // namespace
}  // namespace pgshim::rules
