#include "parser/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pgshim::parser {
namespace {

std::vector<std::string> texts(std::string_view sql) {
  TokenList tokens;
  EXPECT_TRUE(tokens.lex(sql)) << sql;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < tokens.size(); ++i) out.emplace_back(tokens.text(i));
  return out;
}

TEST(Lexer, SplitsIdentifiersPunctuationAndOperators) {
  EXPECT_EQ(texts("SELECT a.b, \"C\"\"d\" FROM t WHERE x>=1::int"),
            (std::vector<std::string>{"SELECT", "a", ".", "b", ",", "\"C\"\"d\"", "FROM", "t", "WHERE", "x",
                                      ">=", "1", "::", "int"}));
}

TEST(Lexer, SkipsCommentsIncludingNestedBlocks) {
  EXPECT_EQ(texts("a -- x\n/* b /* c */ d */ e"), (std::vector<std::string>{"a", "e"}));
}

// As in PostgreSQL's scanner, a line comment ends at a carriage return too,
// and a vertical tab is not white space.
TEST(Lexer, LineCommentEndsAtCarriageReturn) {
  EXPECT_EQ(texts("a -- x\rb +--y\r\nc"), (std::vector<std::string>{"a", "b", "+", "c"}));
  EXPECT_EQ(texts("a\vb"), (std::vector<std::string>{"a", "\v", "b"}));
}

TEST(Lexer, StringsOfEveryKind) {
  EXPECT_EQ(texts("'it''s' E'a\\'b' B'01' X'ff' N'n' U&'d\\0061' $$x$$ $tag$ $$ $tag$"),
            (std::vector<std::string>{"'it''s'", "E'a\\'b'", "B'01'", "X'ff'", "N'n'", "U&'d\\0061'",
                                      "$$x$$", "$tag$ $$ $tag$"}));
}

TEST(Lexer, ParametersAndDollarIdentifiers) {
  EXPECT_EQ(texts("$1 + a$b"), (std::vector<std::string>{"$1", "+", "a$b"}));
}

TEST(Lexer, OperatorTrailingMinusIsItsOwnToken) {
  // scan.l: `=-1` is `=` then `-` (no ~!@#%^&|`? in the run).
  EXPECT_EQ(texts("a=-1"), (std::vector<std::string>{"a", "=", "-", "1"}));
  EXPECT_EQ(texts("a@-1"), (std::vector<std::string>{"a", "@-", "1"}));
  EXPECT_EQ(texts("a*--c\n"), (std::vector<std::string>{"a", "*"}));
}

TEST(Lexer, Numbers) {
  EXPECT_EQ(texts("1.5e-3 .5 1..2"), (std::vector<std::string>{"1.5e-3", ".5", "1", ".", ".2"}));
}

TEST(Lexer, UnterminatedFails) {
  TokenList tokens;
  EXPECT_FALSE(tokens.lex("SELECT 'abc"));
  EXPECT_FALSE(tokens.lex("SELECT \"abc"));
  EXPECT_FALSE(tokens.lex("SELECT /* abc"));
  EXPECT_FALSE(tokens.lex("SELECT $a$ abc"));
}

TEST(Lexer, FindsTokensByOffset) {
  TokenList tokens;
  ASSERT_TRUE(tokens.lex("SELECT  x"));
  EXPECT_EQ(tokens.at(8), 1u);
  EXPECT_EQ(tokens.at(7), tokens.size());
  EXPECT_EQ(tokens.at_or_after(7), 1u);
  EXPECT_TRUE(tokens.is_keyword(0, "select"));
}

}  // namespace
}  // namespace pgshim::parser
