#include "rules/phase_check.h"

#include <gtest/gtest.h>

namespace pgshim::rules {
namespace {

RuleSet rename_rules(Phase phase) {
  Migration m;
  m.name = "m1";
  m.file = "m1.yaml";
  m.phase = phase;
  m.changes.push_back({RenameColumn{{"", "users"}, "fullname", "display_name"}, {}});
  m.changes.push_back({RenameTable{{"", "customer"}, {"", "customers"}}, {}});
  RuleSet set;
  set.migrations.push_back(m);
  return set;
}

StaticSchemaCache schema(std::vector<ColumnInfo> users, const char* customer_table) {
  StaticSchemaCache s;
  s.add_table("public", "users", std::move(users));
  s.add_table("public", customer_table, {{"id", "integer"}});
  return s;
}

TEST(PhaseCheck, PlannedNeedsOnlyTheOldColumn) {
  EXPECT_TRUE(check_phases(rename_rules(Phase::kPlanned),
                           schema({{"id", "integer"}, {"fullname", "text"}}, "customer")).empty());
  // The new column added ahead of the switch to expanded is no problem.
  EXPECT_TRUE(check_phases(rename_rules(Phase::kPlanned),
                           schema({{"id", "integer"}, {"fullname", "text"}, {"display_name", "text"}},
                                  "customer")).empty());
  auto problems = check_phases(rename_rules(Phase::kPlanned), schema({{"id", "integer"}}, "customer"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("users.fullname does not exist"), std::string::npos) << problems[0].message;
}

TEST(PhaseCheck, ExpandedNeedsBothColumns) {
  auto problems = check_phases(rename_rules(Phase::kExpanded),
                               schema({{"id", "integer"}, {"fullname", "text"}}, "customer"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].message.find("users.display_name does not exist"), std::string::npos);
  EXPECT_NE(problems[0].message.find("m1.yaml: migration 'm1' is in phase expanded"), std::string::npos);
}

TEST(PhaseCheck, ContractedNeedsTheNewNamesOnly) {
  EXPECT_TRUE(check_phases(rename_rules(Phase::kContracted),
                           schema({{"id", "integer"}, {"display_name", "text"}}, "customers")).empty());
  // The old column is dropped after the switch: still there is no problem.
  EXPECT_TRUE(check_phases(rename_rules(Phase::kContracted),
                           schema({{"id", "integer"}, {"fullname", "text"}, {"display_name", "text"}},
                                  "customers")).empty());
  auto problems = check_phases(rename_rules(Phase::kContracted),
                               schema({{"id", "integer"}, {"fullname", "text"}}, "customer"));
  EXPECT_EQ(problems.size(), 2u);  // display_name and the table customers missing
}

TEST(PhaseCheck, MissingTableIsReported) {
  StaticSchemaCache empty;
  auto problems = check_phases(rename_rules(Phase::kPlanned), empty);
  ASSERT_FALSE(problems.empty());
  EXPECT_NE(problems[0].message.find("table users does not exist"), std::string::npos);
}

}  // namespace
}  // namespace pgshim::rules
