#include "parser/text_edit.h"

#include <gtest/gtest.h>

#include "parser/identifiers.h"

namespace pgshim::parser {
namespace {

// Where an edit meets the source, these tests put punctuation on one side: an
// edit's word next to a word of the source is kept apart by a space
// (KeepsEditedTextApartFromNeighbouringWords).

TEST(EditSet, AppliesEditsInTextOrderWhateverTheOrderAdded) {
  EditSet edits;
  edits.replace(7, 8, "x");
  edits.replace(0, 6, "select");
  edits.insert(9, "/*c*/");
  const auto out = edits.apply("SELECT a b");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->text, "select x /*c*/b");
}

TEST(EditSet, InsertionsAtOneOffsetKeepTheirOrder) {
  EditSet edits;
  edits.insert(1, "1");
  edits.insert(1, "2");
  edits.replace(1, 2, "R");  // a replacement starting there comes after the insertions
  EXPECT_EQ(edits.apply("(b)")->text, "(12R)");
}

TEST(EditSet, RefusesOverlaps) {
  EditSet edits;
  edits.replace(0, 5, "x");
  edits.replace(3, 7, "y");
  EXPECT_FALSE(edits.apply("0123456789"));
  EditSet inside;
  inside.replace(0, 5, "x");
  inside.insert(2, "y");
  EXPECT_FALSE(inside.apply("0123456789"));
  EditSet out_of_range;
  out_of_range.replace(5, 20, "x");
  EXPECT_FALSE(out_of_range.apply("0123456789"));
}

TEST(EditSet, AdjacentEditsAreFine) {
  EditSet edits;
  edits.replace(0, 2, "A");
  edits.replace(2, 4, "B");
  edits.insert(4, "C");
  EXPECT_EQ(edits.apply("0123+56")->text, "ABC+56");
}

// Quoted identifiers and a trailing `*` need no space before the next word;
// the text that replaces them must not run into it (found by fuzz_rewriter).
TEST(EditSet, KeepsEditedTextApartFromNeighbouringWords) {
  const std::string_view sql = R"(UPDATE"c"SET"a"=1 FROM t *JOIN u)";
  EditSet edits;
  edits.replace(6, 9, "customers");
  edits.replace(12, 15, "b");
  edits.replace(23, 26, "(SELECT 1) t");
  const auto out = edits.apply(sql);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->text, "UPDATE customers SET b=1 FROM (SELECT 1) t JOIN u");
  // The separating spaces belong to the edits: outside them every byte is the source's.
  EXPECT_EQ(out->mappings[0].new_begin, 6u);
  EXPECT_EQ(out->mappings[0].new_end, 17u);
  EXPECT_EQ(*edits.render(sql, 0, 17), "UPDATE customers SET b=1");
  // A deleted word does not join its neighbours either.
  EditSet deletion;
  deletion.replace(6, 9, "");
  EXPECT_EQ(deletion.apply("SELECT\"x\"FROM")->text, "SELECT FROM");
}

TEST(EditSet, RenderAppliesOnlyInnerEdits) {
  EditSet edits;
  edits.replace(2, 3, "-");
  edits.insert(1, "<");  // on the border: not part of [1, 4)
  edits.insert(4, ">");
  EXPECT_EQ(*edits.render("0123456", 1, 4), "1-3");
  edits.replace(3, 6, "Y");
  EXPECT_FALSE(edits.render("0123456", 1, 4));  // straddles
}

TEST(EditSet, ReplaceAbsorbingDropsInnerEdits) {
  EditSet edits;
  edits.replace(2, 3, "-");
  const std::string wrapped = "(" + *edits.render("0123456", 1, 4) + ")";
  edits.replace_absorbing(1, 4, wrapped);
  EXPECT_EQ(edits.apply("0123456")->text, "0(1-3)456");
}

TEST(EditSet, MapsOffsetsBack) {
  EditSet edits;
  edits.replace(2, 3, "(-)");  // "01(-)3456"
  const auto out = edits.apply("0123456");
  ASSERT_TRUE(out);
  EXPECT_EQ(map_to_source(out->mappings, 1), 1u);
  EXPECT_EQ(map_to_source(out->mappings, 3), 2u);
  EXPECT_EQ(map_to_source(out->mappings, 5), 3u);
  EXPECT_EQ(map_to_source(out->mappings, 8), 6u);
}

TEST(EditSet, ReplayRebuildsAppliedEditsSoThatMoreCanBeAdded) {
  const std::string source = "SELECT a FROM t; EXECUTE p";
  EditSet first;
  first.replace(7, 8, "b AS a");
  first.insert(15, " x");
  const auto once = first.apply(source);
  ASSERT_TRUE(once);
  EditSet again = replay(once->mappings, once->text);
  EXPECT_EQ(again.apply(source)->text, once->text);
  again.insert(17, "PREPARE p AS SELECT 1; ");
  const auto twice = again.apply(source);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->text, "SELECT b AS a FROM t x; PREPARE p AS SELECT 1; EXECUTE p");
  // Inside the added statement: the start of the statement it was put before.
  EXPECT_EQ(map_to_source(twice->mappings, static_cast<std::uint32_t>(twice->text.find("SELECT 1"))), 17u);
  // After it: the client's own text again.
  EXPECT_EQ(map_to_source(twice->mappings, static_cast<std::uint32_t>(twice->text.find("EXECUTE"))), 17u);
  EXPECT_EQ(map_to_source(twice->mappings, static_cast<std::uint32_t>(twice->text.rfind('p'))), 25u);
  EXPECT_EQ(map_to_source(twice->mappings, static_cast<std::uint32_t>(twice->text.find("FROM"))), 9u);
  // Nothing applied: nothing to replay.
  EXPECT_TRUE(replay({}, source).empty());
}

TEST(Identifiers, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(quote_identifier("users"), "users");
  EXPECT_EQ(quote_identifier("display_name2"), "display_name2");
  EXPECT_EQ(quote_identifier("Users"), "\"Users\"");
  EXPECT_EQ(quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(quote_identifier("select"), "\"select\"");
  EXPECT_EQ(quote_identifier("user"), "\"user\"");
  EXPECT_EQ(quote_identifier("name"), "name");  // unreserved
  EXPECT_EQ(quote_identifier("1a"), "\"1a\"");
  EXPECT_EQ(quote_identifier(""), "\"\"");
}

}  // namespace
}  // namespace pgshim::parser
