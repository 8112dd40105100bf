#include "parser/analysis.h"

#include <gtest/gtest.h>

#include <string>
#include <memory>
#include <thread>

#include "parser/expression_template.h"

namespace pgshim::parser {
namespace {

std::string text(const Analysis& a, Span s) { return std::string(a.sql().substr(s.begin, s.end - s.begin)); }

TEST(Analysis, RejectsSyntaxErrorsAndUnterminatedText) {
  EXPECT_FALSE(Analysis("SELEC 1").ok());
  EXPECT_FALSE(Analysis("SELECT 'x").ok());
  EXPECT_TRUE(Analysis("SELECT 1; SELECT 2").ok());
  EXPECT_TRUE(parses("  "));  // no statement at all is valid
}

TEST(Analysis, StatementSpansOfAMultiStatementString) {
  const Analysis a("SELECT 1; /* c */ UPDATE t SET x = 1 ;SELECT 3");
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a.model().statements.size(), 3u);
  EXPECT_EQ(text(a, a.model().statements[0].span), "SELECT 1");
  EXPECT_EQ(text(a, a.model().statements[1].span), " /* c */ UPDATE t SET x = 1 ");
  EXPECT_EQ(text(a, a.model().statements[2].span), "SELECT 3");
}

TEST(Analysis, RelationsWithSchemaAliasAndOnly) {
  const Analysis a("SELECT * FROM ONLY public.\"Users\" AS u(a, b) JOIN orders o ON o.x = u.a, t");
  ASSERT_TRUE(a.ok());
  const auto& rels = a.model().relations;
  ASSERT_EQ(rels.size(), 3u);
  EXPECT_EQ(rels[0].schema, "public");
  EXPECT_EQ(rels[0].name, "Users");
  EXPECT_EQ(rels[0].alias, "u");
  EXPECT_TRUE(rels[0].alias_has_columns);
  EXPECT_EQ(text(a, rels[0].name_span), "public.\"Users\"");
  EXPECT_EQ(text(a, rels[0].relname_span), "\"Users\"");
  EXPECT_EQ(text(a, rels[0].only_span), "ONLY");
  EXPECT_EQ(a.sql().substr(rels[0].after_alias, 5), " JOIN");
  EXPECT_EQ(rels[1].refname(), "o");
  EXPECT_EQ(rels[2].refname(), "t");
  EXPECT_EQ(rels[0].role, RelationRole::kRead);
}

TEST(Analysis, CteShadowsTableOfTheSameName) {
  const Analysis a("WITH users AS (SELECT * FROM users) SELECT * FROM users, public.users");
  ASSERT_TRUE(a.ok());
  const auto& rels = a.model().relations;
  ASSERT_EQ(rels.size(), 2u);  // the one inside the CTE and the qualified one
  EXPECT_EQ(rels[0].schema, "");
  EXPECT_EQ(rels[1].schema, "public");
}

TEST(Analysis, RecursiveCteSeesItself) {
  const Analysis a("WITH RECURSIVE t AS (SELECT 1 UNION ALL SELECT n FROM t) SELECT * FROM t");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a.model().relations.empty());
}

TEST(Analysis, ColumnRefsScopesAndBareTargets) {
  const Analysis a("SELECT u.id, name AS n, (SELECT max(x) FROM o WHERE o.uid = u.id) FROM users u");
  ASSERT_TRUE(a.ok());
  const auto& m = a.model();
  ASSERT_EQ(m.columns.size(), 5u);
  EXPECT_EQ(text(a, m.columns[0].span), "u.id");
  EXPECT_TRUE(m.columns[0].bare_target);
  EXPECT_FALSE(m.columns[1].bare_target);
  const int outer = m.columns[0].scope;
  const int inner = m.columns[2].scope;
  EXPECT_NE(outer, inner);
  EXPECT_EQ(m.scopes[static_cast<std::size_t>(inner)].parent, outer);
  EXPECT_EQ(m.columns[4].scope, inner);
}

TEST(Analysis, UpdateSetListWithValueSpans) {
  const Analysis a("UPDATE users AS u SET name = lower($1) || 'x', (a, b) = (1, f(2, 3)) "
                   "FROM t WHERE u.id = t.id RETURNING *, name");
  ASSERT_TRUE(a.ok());
  const auto& m = a.model();
  ASSERT_EQ(m.writes.size(), 1u);
  EXPECT_EQ(m.writes[0].kind, WriteKind::kUpdate);
  EXPECT_TRUE(m.writes[0].has_from);
  ASSERT_EQ(m.writes[0].assignments.size(), 1u);
  const AssignmentList& set = m.assignments[0];
  ASSERT_EQ(set.columns.size(), 3u);
  EXPECT_EQ(text(a, set.columns[0].item), "name = lower($1) || 'x'");
  EXPECT_EQ(text(a, set.rows[0][0].expr), "lower($1) || 'x'");
  EXPECT_TRUE(set.rows[0][0].has_param);
  EXPECT_EQ(text(a, set.columns[1].item), "(a, b) = (1, f(2, 3))");
  EXPECT_EQ(set.columns[2].group, 0);
  EXPECT_EQ(text(a, set.rows[0][2].expr), "f(2, 3)");
  bool star = false;
  for (const auto& c : m.columns) star |= c.star && c.in_returning;
  EXPECT_TRUE(star);
}

TEST(Analysis, SetValueEndsAtClauseKeywordsButNotInsideTheExpression) {
  const Analysis a("UPDATE t SET a = b IS DISTINCT FROM c WHERE id = 1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(text(a, a.model().assignments[0].rows[0][0].expr), "b IS DISTINCT FROM c");
  const Analysis b("UPDATE t SET a = CASE WHEN x THEN 1 ELSE 2 END, c = d::numeric(12, 2) RETURNING a");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(text(b, b.model().assignments[0].rows[0][0].expr), "CASE WHEN x THEN 1 ELSE 2 END");
  EXPECT_EQ(text(b, b.model().assignments[0].rows[0][1].expr), "d::numeric(12, 2)");
  // A clause word after `.` names a field.
  const Analysis c("INSERT INTO t SELECT i, b.on, x.from + 1 FROM b, x");
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c.model().assignments[0].rows[0].size(), 3u);
  EXPECT_EQ(text(c, c.model().assignments[0].rows[0][1].expr), "b.on");
  EXPECT_EQ(text(c, c.model().assignments[0].rows[0][2].expr), "x.from + 1");
}

TEST(Analysis, InsertValuesRowsAndOnConflict) {
  const Analysis a("INSERT INTO users (id, name) VALUES (1, ( 'a' )), ($1, DEFAULT) "
                   "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id");
  ASSERT_TRUE(a.ok());
  const auto& m = a.model();
  ASSERT_EQ(m.writes.size(), 1u);
  ASSERT_EQ(m.writes[0].assignments.size(), 2u);
  const AssignmentList& ins = m.assignments[0];
  EXPECT_TRUE(ins.has_column_list);
  ASSERT_EQ(ins.rows.size(), 2u);
  EXPECT_EQ(text(a, ins.rows[0][1].expr), "( 'a' )");
  EXPECT_TRUE(ins.rows[1][1].is_default);
  EXPECT_TRUE(ins.rows[1][0].has_param);
  ASSERT_EQ(m.writes[0].conflict_columns.size(), 1u);
  EXPECT_EQ(m.writes[0].conflict_columns[0].column, "id");
  const AssignmentList& set = m.assignments[1];
  EXPECT_EQ(text(a, set.rows[0][0].expr), "EXCLUDED.name");
}

TEST(Analysis, InsertWithoutColumnListAndSelectSource) {
  const Analysis a("INSERT INTO users AS u SELECT a, b + 1 AS x, c y FROM t UNION SELECT 1, 2, 3");
  ASSERT_TRUE(a.ok());
  const AssignmentList& ins = a.model().assignments[0];
  EXPECT_FALSE(ins.has_column_list);
  EXPECT_EQ(a.sql().substr(ins.column_list_at, 7), " SELECT");
  ASSERT_EQ(ins.rows.size(), 2u);
  EXPECT_EQ(text(a, ins.rows[0][1].expr), "b + 1");
  EXPECT_EQ(text(a, ins.rows[0][1].element), "b + 1 AS x");
  EXPECT_EQ(text(a, ins.rows[0][2].expr), "c");
  EXPECT_EQ(text(a, ins.rows[0][2].element), "c y");
  EXPECT_EQ(text(a, ins.rows[1][2].expr), "3");
}

TEST(Analysis, DefaultValuesAndSelectStar) {
  const Analysis a("INSERT INTO t DEFAULT VALUES; INSERT INTO t SELECT * FROM s");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a.model().assignments[0].default_values);
  EXPECT_EQ(text(a, a.model().assignments[0].default_values_span), "DEFAULT VALUES");
  EXPECT_FALSE(a.model().assignments[1].values_known);
}

TEST(Analysis, DeleteMergeCopyAndUtility) {
  const Analysis a(
      "DELETE FROM users u USING t WHERE u.id = t.id;"
      "MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = s.n "
      "WHEN NOT MATCHED THEN INSERT (id, name) VALUES (s.id, s.n);"
      "COPY users (id, name) FROM STDIN; COPY (SELECT 1 FROM users) TO STDOUT; LOCK users; TRUNCATE users");
  ASSERT_TRUE(a.ok());
  const auto& m = a.model();
  EXPECT_EQ(m.writes.size(), 2u);
  EXPECT_EQ(m.writes[1].kind, WriteKind::kMerge);
  ASSERT_EQ(m.writes[1].assignments.size(), 2u);
  const AssignmentList& ins = m.assignments[static_cast<std::size_t>(m.writes[1].assignments[1])];
  EXPECT_EQ(text(a, ins.rows[0][1].expr), "s.n");
  ASSERT_EQ(m.copies.size(), 1u);
  EXPECT_EQ(text(a, m.copies[0].target_span), "users (id, name)");
  EXPECT_EQ(m.copies[0].columns[1].column, "name");
  int utility = 0;
  for (const auto& r : m.relations) utility += r.role == RelationRole::kUtility ? 1 : 0;
  EXPECT_EQ(utility, 2);
  EXPECT_TRUE(m.unsupported.empty());
}

TEST(Analysis, PrepareExplainAndDeclareAreWalked) {
  const Analysis a("PREPARE p (int) AS SELECT * FROM users WHERE id = $1; EXPLAIN UPDATE users SET a = 1;"
                   "DECLARE c CURSOR FOR SELECT 1 FROM users");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.model().relations.size(), 3u);
}

TEST(Analysis, SeveralAnalysesMayLiveOnOneThread) {
  auto outer = std::make_unique<Analysis>("SELECT a FROM t");
  ASSERT_TRUE(outer->ok());
  const Analysis inner("SELECT b FROM u");
  ASSERT_TRUE(inner.ok());
  outer.reset();  // destroyed out of order
  EXPECT_EQ(inner.model().relations[0].name, "u");
  EXPECT_TRUE(Analysis("SELECT 2").ok());
  // Another thread has its own libpg_query state.
  bool other = false;
  std::thread t([&] { other = Analysis("SELECT 3").ok(); });
  t.join();
  EXPECT_TRUE(other);
}

TEST(ExpressionTemplate, CutsAtColumnReferences) {
  ExpressionTemplate t;
  std::string error;
  ASSERT_TRUE(t.compile("round(price::numeric * 100)::bigint + \"price\"", "price", error)) << error;
  EXPECT_EQ(t.holes(), 2u);
  EXPECT_EQ(t.fill("($1)::text"), "round(($1)::text::numeric * 100)::bigint + ($1)::text");
  EXPECT_FALSE(t.compile("1 +", "price", error));
}

}  // namespace
}  // namespace pgshim::parser
