// parser/expression_check: rule-file SQL checked with PostgreSQL's grammar. (It is
// tested here because rules/ is its only user and links it.)
#include "parser/expression_check.h"

#include <gtest/gtest.h>

namespace pgshim::parser {
namespace {

using Names = std::vector<std::string>;

TEST(ExpressionCheckTest, AcceptsExpressions) {
  std::string error;
  EXPECT_TRUE(check_sql_expression("round(price::numeric * 100)::bigint", error)) << error;
  EXPECT_TRUE(check_sql_expression("CASE WHEN x = '' THEN NULL ELSE x END", error)) << error;
  EXPECT_TRUE(check_sql_expression("NULL", error)) << error;
  EXPECT_TRUE(check_sql_expression("(SELECT max(id) FROM t)", error)) << error;
}

TEST(ExpressionCheckTest, RejectsWhatIsNotOneExpression) {
  std::string error;
  EXPECT_FALSE(check_sql_expression("", error));
  EXPECT_EQ(error, "syntax error at or near \")\"");
  EXPECT_FALSE(check_sql_expression("1), (2", error));
  EXPECT_EQ(error, "it is not a single expression (it closes its parentheses or adds clauses)");
  EXPECT_FALSE(check_sql_expression("1); DROP TABLE users; SELECT (1", error));
  EXPECT_FALSE(check_sql_expression("1) UNION SELECT (2", error));
  EXPECT_FALSE(check_sql_expression("x -- comment", error));
  EXPECT_FALSE(check_sql_expression(std::string_view("a\0b", 3), error));
  EXPECT_EQ(error, "contains a NUL character");
}

TEST(ExpressionCheckTest, ReportsErrorOffset) {
  const ExpressionInfo info = analyze_sql_expression("a + + * b");
  EXPECT_FALSE(info.ok);
  EXPECT_EQ(info.error, "syntax error at or near \"*\"");
  EXPECT_EQ(info.error_offset, 6);
}

TEST(ExpressionCheckTest, ColumnReferencesInTextOrder) {
  const ExpressionInfo info =
      analyze_sql_expression("coalesce(\"Price\", t.price, 'quantity', Total) + $1");
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(info.column_refs, (Names{"Price", "price", "total"}));
  EXPECT_TRUE(info.has_params);
  EXPECT_FALSE(analyze_sql_expression("now()").has_params);
}

TEST(ExpressionCheckTest, Types) {
  std::string error;
  for (const char* type : {"bigint", "numeric(12,2)", "text[]", "timestamp with time zone",
                           "public.my_enum", "\"Mixed\"", "character varying(20)"}) {
    EXPECT_TRUE(check_sql_type(type, error)) << type << ": " << error;
  }
  EXPECT_FALSE(check_sql_type("int, 1", error));
  EXPECT_EQ(error, "syntax error at or near \",\"");
  EXPECT_FALSE(check_sql_type("int) + (1", error));
  EXPECT_FALSE(check_sql_type("", error));
  EXPECT_FALSE(check_sql_type("int -- c", error));
}

}  // namespace
}  // namespace pgshim::parser
