// Version selection (DESIGN.md section 2) and the startup options parser.
#include "rules/version_match.h"

#include <gtest/gtest.h>

namespace pgshim::rules {
namespace {

Migration with_selectors(VersionSelector old_selector, VersionSelector new_selector,
                         ClientVersion default_version = ClientVersion::kOld) {
  Migration migration;
  migration.name = "m";
  migration.old_selector = std::move(old_selector);
  migration.new_selector = std::move(new_selector);
  migration.default_version = default_version;
  return migration;
}

StartupParams params(std::string application_name, std::string user = "app",
                     std::string database = "shop") {
  return StartupParams{std::move(application_name), std::move(user), std::move(database),
                       std::nullopt};
}

TEST(GlobTest, Matches) {
  EXPECT_TRUE(glob_match("shop-v1*", "shop-v1"));
  EXPECT_TRUE(glob_match("shop-v1*", "shop-v1.4.2"));
  EXPECT_FALSE(glob_match("shop-v1*", "shop-v2"));
  EXPECT_FALSE(glob_match("shop-v1*", "my-shop-v1"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(glob_match("*a*b*", "xxbxxaxx"));
  EXPECT_TRUE(glob_match("a*b*c", "abbbc"));
  EXPECT_TRUE(glob_match("a**", "a"));
  EXPECT_FALSE(glob_match("Shop", "shop"));  // case-sensitive, like PostgreSQL names
}

TEST(GlobTest, Overlap) {
  EXPECT_TRUE(globs_overlap("shop", "shop"));
  EXPECT_FALSE(globs_overlap("shop", "crm"));
  EXPECT_TRUE(globs_overlap("shop*", "shop"));
  EXPECT_TRUE(globs_overlap("*", "crm"));
  EXPECT_TRUE(globs_overlap("s*p", "sh?p"));
  EXPECT_FALSE(globs_overlap("*x", "*y"));
  EXPECT_TRUE(globs_overlap("a*", "*b"));
  EXPECT_FALSE(globs_overlap("a?", "a"));
  EXPECT_TRUE(globs_overlap("*shop*", "?-shop-?"));
}

TEST(DecideVersionTest, ApplicationNameSelector) {
  const Migration m = with_selectors({"shop-v1*", "", ""}, {"shop-v2*", "", ""});
  EXPECT_EQ(decide_version(m, params("shop-v1.3")), ClientVersion::kOld);
  EXPECT_EQ(decide_version(m, params("shop-v2.0")), ClientVersion::kNew);
}

TEST(DecideVersionTest, UserSelector) {
  const Migration m = with_selectors({}, {"", "app_v2*", ""});
  EXPECT_EQ(decide_version(m, params("", "app_v2_rw")), ClientVersion::kNew);
  EXPECT_EQ(decide_version(m, params("", "app_v1_rw")), ClientVersion::kOld);
}

TEST(DecideVersionTest, DatabaseSelector) {
  const Migration m = with_selectors({"", "", "legacy_?"}, {}, ClientVersion::kNew);
  EXPECT_EQ(decide_version(m, params("x", "u", "legacy_1")), ClientVersion::kOld);
  EXPECT_EQ(decide_version(m, params("x", "u", "legacy_10")), ClientVersion::kNew);
}

TEST(DecideVersionTest, EveryNonEmptyFieldMustMatch) {
  const Migration m = with_selectors({}, {"shop*", "app", "shop"});
  EXPECT_EQ(decide_version(m, params("shop-v2", "app", "shop")), ClientVersion::kNew);
  EXPECT_EQ(decide_version(m, params("shop-v2", "admin", "shop")), ClientVersion::kOld);
  EXPECT_EQ(decide_version(m, params("shop-v2", "app", "crm")), ClientVersion::kOld);
}

TEST(DecideVersionTest, DefaultWhenNoSelectorMatches) {
  EXPECT_EQ(decide_version(with_selectors({"v1*", "", ""}, {"v2*", "", ""}), params("psql")),
            ClientVersion::kOld);
  EXPECT_EQ(decide_version(with_selectors({"v1*", "", ""}, {"v2*", "", ""}, ClientVersion::kNew),
                           params("psql")),
            ClientVersion::kNew);
  EXPECT_EQ(decide_version(with_selectors({}, {}, ClientVersion::kNew), params("")),
            ClientVersion::kNew);
}

TEST(DecideVersionTest, BothSelectorsMatchingFallsToDefault) {
  const Migration m = with_selectors({"shop*", "", ""}, {"shop-v2*", "", ""}, ClientVersion::kNew);
  EXPECT_EQ(decide_version(m, params("shop-v2.1")), ClientVersion::kNew);
  EXPECT_EQ(decide_version(m, params("shop-v1.1")), ClientVersion::kOld);
}

TEST(DecideVersionTest, OptionWinsOverSelectorsAndDefault) {
  const Migration m = with_selectors({"shop-v1*", "", ""}, {"shop-v2*", "", ""});
  StartupParams p = params("shop-v1.0");
  p.version_option = ClientVersion::kNew;
  EXPECT_EQ(decide_version(m, p), ClientVersion::kNew);
  p = params("shop-v2.0");
  p.version_option = ClientVersion::kOld;
  EXPECT_EQ(decide_version(m, p), ClientVersion::kOld);
}

TEST(DecideVersionTest, MigrationDatabaseGlob) {
  Migration m;
  EXPECT_TRUE(migration_applies_to_database(m, "anything"));
  m.database_glob = "shop*";
  EXPECT_TRUE(migration_applies_to_database(m, "shop"));
  EXPECT_TRUE(migration_applies_to_database(m, "shop_eu"));
  EXPECT_FALSE(migration_applies_to_database(m, "crm"));
}

TEST(StartupOptionsTest, SplitsLikePostgres) {
  using Args = std::vector<std::string>;
  EXPECT_EQ(split_startup_options(""), Args{});
  EXPECT_EQ(split_startup_options("   "), Args{});
  EXPECT_EQ(split_startup_options("-c a=1  -c\tb=2\n"), (Args{"-c", "a=1", "-c", "b=2"}));
  EXPECT_EQ(split_startup_options("-c search_path=a\\ b"), (Args{"-c", "search_path=a b"}));
  EXPECT_EQ(split_startup_options("x\\\\y \\z"), (Args{"x\\y", "z"}));
  EXPECT_EQ(split_startup_options("trailing\\"), (Args{"trailing"}));
}

TEST(StartupOptionsTest, ParsesSettings) {
  std::string error;
  const auto settings = parse_option_settings(
      "-c pgshim.version=new -cstatement_timeout=5s --work-mem=4MB -d 2 -c app.x=a\\ b", error);
  EXPECT_TRUE(error.empty());
  EXPECT_EQ(settings, (std::vector<OptionSetting>{{"pgshim.version", "new"},
                                                   {"statement_timeout", "5s"},
                                                   {"work_mem", "4MB"},
                                                   {"app.x", "a b"}}));
}

TEST(StartupOptionsTest, SettingWithoutValue) {
  std::string error;
  const auto settings = parse_option_settings("-c geqo", error);
  EXPECT_TRUE(settings.empty());
  EXPECT_EQ(error, "-c geqo requires a value");
}

TEST(StartupOptionsTest, VersionOptionForms) {
  for (const char* options : {"-c pgshim.version=new", "-cpgshim.version=new",
                              "--pgshim.version=new", "-c PGSHIM.VERSION=NEW",
                              "-e -c pgshim.version=old -c pgshim.version=new"}) {
    std::optional<ClientVersion> version;
    std::string error;
    ASSERT_TRUE(parse_version_option(options, version, error)) << options;
    EXPECT_EQ(version, ClientVersion::kNew) << options;
  }
}

TEST(StartupOptionsTest, VersionOptionAbsentOrBad) {
  std::optional<ClientVersion> version;
  std::string error;
  ASSERT_TRUE(parse_version_option("-c search_path=app", version, error));
  EXPECT_FALSE(version.has_value());
  ASSERT_TRUE(parse_version_option("-c pgshim.version=old", version, error));
  EXPECT_EQ(version, ClientVersion::kOld);
  EXPECT_FALSE(parse_version_option("-c pgshim.version=v2", version, error));
  EXPECT_EQ(error, "invalid value for parameter \"pgshim.version\": \"v2\"; use old or new");
}

}  // namespace
}  // namespace pgshim::rules
