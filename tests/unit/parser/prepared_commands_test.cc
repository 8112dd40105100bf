// SQL-level PREPARE / EXECUTE / DEALLOCATE / DISCARD found in SQL text, with
// the spans the proxy needs to prepare a statement again.
#include "parser/prepared_commands.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "parser/analysis.h"

namespace pgshim::parser {

// Readable failures (gtest finds it by argument-dependent lookup).
void PrintTo(const PreparedCommand& c, std::ostream* os) {
  *os << "{kind " << static_cast<int>(c.kind) << ", name \"" << c.name << "\", at " << c.statement_begin
      << ", types \"" << c.types << "\", body \"" << c.body << "\"}";
}

namespace {

using Kind = PreparedCommandKind;

PreparedCommand command(Kind kind, std::string name, std::uint32_t at, std::string types = "", std::string body = "") {
  return PreparedCommand{kind, std::move(name), at, std::move(types), std::move(body)};
}

struct Row {
  const char* sql;
  std::vector<PreparedCommand> expected;
};

TEST(PreparedCommands, FindsEachCommandWithItsSpans) {
  const std::vector<Row> rows = {
      {"PREPARE p AS SELECT fullname FROM users WHERE id = 1",
       {command(Kind::kPrepare, "p", 0, "", "SELECT fullname FROM users WHERE id = 1")}},
      {"prepare By_Id (int, text) as select $1, $2",
       {command(Kind::kPrepare, "by_id", 0, "int, text", "select $1, $2")}},
      // Types with their own parentheses and arrays, a quoted name, a comment kept inside the body.
      {"PREPARE \"Mixed\"(numeric(12, 2), int[]) AS\n  SELECT $1 /* c */ + 1 -- trailing\n",
       {command(Kind::kPrepare, "Mixed", 0, "numeric(12, 2), int[]", "SELECT $1 /* c */ + 1")}},
      // A line comment ends at a carriage return, also inside an operator.
      {"PREPARE r AS SELECT 1 +-- c\r2", {command(Kind::kPrepare, "r", 0, "", "SELECT 1 +-- c\r2")}},
      {"PREPARE w AS INSERT INTO t (a) VALUES ($1) RETURNING *; EXECUTE w(1)",
       {command(Kind::kPrepare, "w", 0, "", "INSERT INTO t (a) VALUES ($1) RETURNING *"),
        command(Kind::kExecute, "w", 56)}},
      // A leading comment stays before the statement: the proxy inserts after it.
      {"SELECT 1; /* lead */ EXECUTE q (1, 'x'); SELECT 2",
       {command(Kind::kExecute, "q", 21)}},
      {"EXPLAIN (ANALYZE, COSTS off) EXECUTE p(1)", {command(Kind::kExecute, "p", 0)}},
      {"CREATE TABLE copy AS EXECUTE p(1)", {command(Kind::kExecute, "p", 0)}},
      {"EXPLAIN ANALYZE CREATE TABLE copy AS EXECUTE \"P\"", {command(Kind::kExecute, "P", 0)}},
      {"DEALLOCATE p; DEALLOCATE PREPARE q; DEALLOCATE ALL; DEALLOCATE PREPARE ALL",
       {command(Kind::kDeallocate, "p", 0), command(Kind::kDeallocate, "q", 14),
        command(Kind::kDeallocateAll, "", 36), command(Kind::kDeallocateAll, "", 52)}},
      // Only DISCARD ALL drops prepared statements.
      {"DISCARD PLANS; DISCARD TEMP; DISCARD ALL", {command(Kind::kDiscardAll, "", 29)}},
      // Other statements, PREPARE TRANSACTION and the words as names or in strings are not commands.
      {"SELECT 'EXECUTE p' AS prepare FROM execute_log; PREPARE TRANSACTION 'x'", {}},
  };
  for (const Row& row : rows) {
    const auto commands = prepared_commands(row.sql);
    ASSERT_TRUE(commands) << row.sql;
    EXPECT_EQ(*commands, row.expected) << row.sql;
    for (const PreparedCommand& c : *commands) {
      EXPECT_EQ(std::string(row.sql).substr(c.statement_begin, 1).find_first_of("PpEeCcDd"), 0u) << row.sql;
      if (c.kind == Kind::kPrepare) {
        EXPECT_TRUE(parses(c.body)) << c.body;
      }
    }
  }
}

TEST(PreparedCommands, UnparseableTextHasNone) {
  EXPECT_FALSE(prepared_commands("PREPARE p AS SELEC 1"));
  EXPECT_FALSE(prepared_commands("EXECUTE 'unterminated"));
  EXPECT_FALSE(prepared_commands(std::string("EXECUTE p\0", 10)));
  ASSERT_TRUE(prepared_commands(""));
  EXPECT_TRUE(prepared_commands("")->empty());
}

TEST(PreparedCommands, KeywordGate) {
  EXPECT_EQ(find_prepared_keywords("SELECT 1"), (PreparedKeywords{false, false}));
  EXPECT_EQ(find_prepared_keywords("execute p"), (PreparedKeywords{false, true}));
  EXPECT_EQ(find_prepared_keywords("PrePare p AS SELECT 1"), (PreparedKeywords{true, false}));
  EXPECT_EQ(find_prepared_keywords("DEALLOCATE p; EXECUTE q"), (PreparedKeywords{true, true}));
  EXPECT_EQ(find_prepared_keywords("discard all"), (PreparedKeywords{true, false}));
  // Found anywhere, even inside a word or a string: only a gate before parsing.
  EXPECT_EQ(find_prepared_keywords("SELECT executed FROM t"), (PreparedKeywords{false, true}));
  EXPECT_EQ(find_prepared_keywords("SELECT 'prepar' || 'e'"), (PreparedKeywords{false, false}));
}

// The gate reads 16 bytes at a time: each keyword is found at every offset
// across those blocks and the end of the text, and a cut-off one nowhere.
TEST(PreparedCommands, KeywordGateAtEveryOffset) {
  const std::pair<std::string, PreparedKeywords> cases[] = {
      {"eXeCuTe", {false, true}},      {"PREPARE", {true, false}},  {"Deallocate", {true, false}},
      {"disCARD", {true, false}},      {"execut", {false, false}},  {"prepar", {false, false}},
      {"deallocat", {false, false}},   {"discar", {false, false}},  {"xecute", {false, false}},
  };
  for (const auto& [word, expected] : cases) {
    for (std::size_t before = 0; before <= 40; ++before) {
      // Filler holding the pairs the gate looks for, none of them in a keyword.
      std::string filler;
      while (filler.size() < before) filler += "null desc step next \xe9XE ";
      filler.resize(before);
      filler += ' ';
      for (const std::string& after : {std::string(), std::string(" = $1"), std::string(17, ' ')}) {
        const std::string sql = filler + word + after;
        EXPECT_EQ(find_prepared_keywords(sql), expected) << sql;
      }
    }
  }
  EXPECT_EQ(find_prepared_keywords("null desc step next ll sc ep xe"), (PreparedKeywords{false, false}));
  EXPECT_EQ(find_prepared_keywords(""), (PreparedKeywords{false, false}));
  EXPECT_EQ(find_prepared_keywords("x"), (PreparedKeywords{false, false}));
}

}  // namespace
}  // namespace pgshim::parser
