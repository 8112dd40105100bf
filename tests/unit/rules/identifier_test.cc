// PostgreSQL identifier folding and "did you mean" suggestions.
#include "rules/identifier.h"

#include <gtest/gtest.h>

#include <array>

#include "rules/suggest.h"

namespace pgshim::rules {
namespace {

std::string folded(std::string_view text) {
  std::string out;
  std::string error;
  EXPECT_TRUE(parse_identifier(text, out, error)) << error;
  return out;
}

std::string error_of(std::string_view text) {
  std::string out;
  std::string error;
  EXPECT_FALSE(parse_identifier(text, out, error));
  return error;
}

TEST(IdentifierTest, FoldsUnquotedKeepsQuoted) {
  EXPECT_EQ(folded("FullName"), "fullname");
  EXPECT_EQ(folded("_x$1"), "_x$1");
  EXPECT_EQ(folded("\"FullName\""), "FullName");
  EXPECT_EQ(folded("\"full name\""), "full name");
  EXPECT_EQ(folded("\"a\"\"b\""), "a\"b");
  EXPECT_EQ(folded("\"a.b\""), "a.b");
  EXPECT_EQ(folded("Ünïcode"), "Ünïcode");  // only ASCII folds, as in PostgreSQL
}

TEST(IdentifierTest, Rejects) {
  EXPECT_EQ(error_of(""), "the name is empty; give a name");
  EXPECT_EQ(error_of("\"\""),
            "'\"\"' is an empty quoted identifier; put a name between the double quotes");
  EXPECT_EQ(error_of("\"abc"), "'\"abc' has an unterminated double quote; close it with \"");
  EXPECT_EQ(error_of("\"ab\"c"),
            "'\"ab\"c' has text after its closing double quote; quote the whole name or none of "
            "it");
  EXPECT_EQ(error_of(std::string("\"a\0b\"", 5)),
            "a quoted identifier contains a zero byte, which no PostgreSQL name can hold; remove it");
  EXPECT_EQ(error_of("1abc"),
            "'1abc' is not a valid unquoted identifier (it must start with a letter or _); "
            "double-quote it if that is its real name");
  EXPECT_EQ(error_of(std::string(64, 'a')),
            "'" + std::string(64, 'a') +
                "' is longer than 63 bytes, so PostgreSQL would truncate it; use the name the "
                "database really has");
  EXPECT_EQ(folded(std::string(63, 'A')), std::string(63, 'a'));
}

TEST(IdentifierTest, TableNames) {
  TableName table;
  std::string error;
  ASSERT_TRUE(parse_table_name("Public.Users", table, error));
  EXPECT_EQ(table, (TableName{"public", "users"}));
  ASSERT_TRUE(parse_table_name("\"My Schema\".\"T.1\"", table, error));
  EXPECT_EQ(table, (TableName{"My Schema", "T.1"}));
  ASSERT_TRUE(parse_table_name("orders", table, error));
  EXPECT_EQ(table, (TableName{"", "orders"}));
  EXPECT_FALSE(parse_table_name(".orders", table, error));
  EXPECT_EQ(error, "'.orders' has an empty name next to a dot; remove the dot or add the name");
}

TEST(IdentifierTest, DisplayAndSameTable) {
  EXPECT_EQ(display_identifier("users"), "users");
  EXPECT_EQ(display_identifier("Users"), "\"Users\"");
  EXPECT_EQ(display_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(display_table_name(TableName{"Sales", "orders"}), "\"Sales\".orders");
  EXPECT_TRUE(may_be_same_table({"", "users"}, {"public", "users"}));
  EXPECT_TRUE(may_be_same_table({"app", "users"}, {"app", "users"}));
  EXPECT_FALSE(may_be_same_table({"app", "users"}, {"public", "users"}));
  EXPECT_FALSE(may_be_same_table({"", "users"}, {"", "Users"}));
}

TEST(SuggestTest, ClosestMatch) {
  constexpr std::array<std::string_view, 3> kKeys = {"changes", "phase", "migration"};
  EXPECT_EQ(edit_distance("chnages", "changes"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(closest_match("chnages", kKeys), "changes");
  EXPECT_EQ(closest_match("Phase", kKeys), "phase");
  EXPECT_EQ(closest_match("migraton", kKeys), "migration");
  EXPECT_FALSE(closest_match("owner", kKeys).has_value());
  EXPECT_EQ(join_choices(kKeys), "changes, phase or migration");
  EXPECT_EQ(join_choices(std::span(kKeys).first(1)), "changes");
}

}  // namespace
}  // namespace pgshim::rules
