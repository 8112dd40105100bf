// Editing `phase:` in place keeps every other byte of a rule file.
#include "rules/phase_edit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "rules/loader.h"
#include "rules/names.h"
#include "tests/unit/rules/loader_test_util.h"

namespace pgshim::rules {
namespace {

using testing::TempDir;

std::string edit(std::string_view text, Phase phase) {
  std::string error;
  std::string out = set_phase_in_text(text, phase, error);
  EXPECT_EQ(error, "");
  return out;
}

std::string edit_error(std::string_view text, Phase phase) {
  std::string error;
  EXPECT_EQ(set_phase_in_text(text, phase, error), "");
  return error;
}

TEST(PhaseNamesTest, RoundTrip) {
  for (const Phase phase : {Phase::kPlanned, Phase::kExpanded, Phase::kBackfilled,
                            Phase::kContracted}) {
    EXPECT_EQ(parse_phase(phase_name(phase)), phase);
  }
  EXPECT_EQ(phase_name(Phase::kBackfilled), "backfilled");
  EXPECT_FALSE(parse_phase("Expanded").has_value());
  EXPECT_EQ(parse_client_version("new"), ClientVersion::kNew);
  EXPECT_EQ(client_version_name(ClientVersion::kOld), "old");
  EXPECT_FALSE(parse_client_version("v2").has_value());
}

TEST(PhaseEditTest, KeepsCommentsAndFormatting) {
  const std::string before =
      "# Shop: rename fullname.\n"
      "migration: shop_0042   # ticket 42\n"
      "phase:    planned      # planned | expanded | backfilled | contracted\n"
      "versions:\n"
      "  old: { application_name: \"shop-v1*\" }   # phase: not this one\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table: users\n"
      "      from: fullname   # keep\n"
      "      to: display_name\n";
  const std::string after =
      "# Shop: rename fullname.\n"
      "migration: shop_0042   # ticket 42\n"
      "phase:    backfilled      # planned | expanded | backfilled | contracted\n"
      "versions:\n"
      "  old: { application_name: \"shop-v1*\" }   # phase: not this one\n"
      "changes:\n"
      "  - rename_column:\n"
      "      table: users\n"
      "      from: fullname   # keep\n"
      "      to: display_name\n";
  EXPECT_EQ(edit(before, Phase::kBackfilled), after);
  EXPECT_EQ(edit(after, Phase::kPlanned), before);
}

TEST(PhaseEditTest, IgnoresNestedPhaseKeysAndComments) {
  const std::string before =
      "# phase: planned\n"
      "migration: m\n"
      "notes:\n"
      "  phase: planned\n"
      "phase: expanded\n";
  EXPECT_EQ(edit(before, Phase::kContracted),
            "# phase: planned\n"
            "migration: m\n"
            "notes:\n"
            "  phase: planned\n"
            "phase: contracted\n");
}

TEST(PhaseEditTest, KeepsQuoteStyle) {
  EXPECT_EQ(edit("migration: m\nphase: 'planned' # q\n", Phase::kExpanded),
            "migration: m\nphase: 'expanded' # q\n");
  EXPECT_EQ(edit("migration: m\nphase: \"planned\"\n", Phase::kExpanded),
            "migration: m\nphase: \"expanded\"\n");
  EXPECT_EQ(edit("migration: m\n\"phase\" : planned\n", Phase::kExpanded),
            "migration: m\n\"phase\" : expanded\n");
}

TEST(PhaseEditTest, ByteOrderMarkAndValueOnNextLine) {
  EXPECT_EQ(edit("\xEF\xBB\xBFphase: planned\nmigration: m\n", Phase::kExpanded),
            "\xEF\xBB\xBFphase: expanded\nmigration: m\n");
  EXPECT_EQ(edit("\xEF\xBB\xBFmigration: m\n", Phase::kExpanded),
            "\xEF\xBB\xBFmigration: m\nphase: expanded\n");
  EXPECT_EQ(edit("migration: m\nphase:\n  planned  # c\n", Phase::kExpanded),
            "migration: m\nphase:\n  expanded  # c\n");
}

TEST(PhaseEditTest, FillsAnEmptyValue) {
  EXPECT_EQ(edit("migration: m\nphase:   # to do\nchanges: []\n", Phase::kExpanded),
            "migration: m\nphase: expanded   # to do\nchanges: []\n");
  EXPECT_EQ(edit("migration: m\nphase: ~\n", Phase::kExpanded), "migration: m\nphase: expanded\n");
}

TEST(PhaseEditTest, AddsALineAfterMigration) {
  EXPECT_EQ(edit("# c\nmigration: m # name\nchanges: []\n", Phase::kExpanded),
            "# c\nmigration: m # name\nphase: expanded\nchanges: []\n");
  EXPECT_EQ(edit("changes: []\nmigration: m", Phase::kPlanned),
            "changes: []\nmigration: m\nphase: planned\n");
  EXPECT_EQ(edit("migration: m\r\nchanges: []\r\n", Phase::kPlanned),
            "migration: m\r\nphase: planned\r\nchanges: []\r\n");
}

TEST(PhaseEditTest, FlowMapping) {
  EXPECT_EQ(edit("{migration: m, phase: planned, changes: []}\n", Phase::kExpanded),
            "{migration: m, phase: expanded, changes: []}\n");
}

TEST(PhaseEditTest, Refusals) {
  EXPECT_EQ(edit_error("migration: m\nphase: a\nphase: b\n", Phase::kPlanned),
            "'phase' is given twice at the top level; keep only one");
  EXPECT_EQ(edit_error("changes: []\n", Phase::kPlanned),
            "the file has no top-level 'migration' key to add 'phase' after");
  EXPECT_EQ(edit_error("migration: m\nphase: [a]\n", Phase::kPlanned),
            "the top-level 'phase' is not a single value; make it 'phase: <phase>' first");
  EXPECT_EQ(edit_error(",\n", Phase::kPlanned),
            "the file is not valid YAML (line 1, column 1: unexpected ','); fix it first");
  EXPECT_EQ(edit_error("- a\n", Phase::kPlanned),
            "the file is not one YAML mapping; fix it with 'pgshim check' first");
  EXPECT_EQ(edit_error("migration: [\n", Phase::kPlanned),
            "the file is not valid YAML (line 2, column 1: end of sequence flow not found); fix "
            "it first");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(PhaseFileTest, RewritesAtomicallyKeepingMode) {
  const TempDir dir;
  const auto file = dir.write("m.yaml",
                              "migration: m  # x\nphase: planned\nchanges:\n"
                              "  - rename_table: { from: a, to: b }\n");
  ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
  std::string error;
  ASSERT_TRUE(set_phase_in_file(file, Phase::kExpanded, error)) << error;
  EXPECT_EQ(read_file(file),
            "migration: m  # x\nphase: expanded\nchanges:\n  - rename_table: { from: a, to: b }\n");
  struct stat info {};
  ASSERT_EQ(::stat(file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0640u);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1u);  // no temporary file left behind
  const LoadResult loaded = load_rules_dir(dir.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.rules().migrations.at(0).phase, Phase::kExpanded);
}

TEST(PhaseFileTest, FollowsSymlinks) {
  const TempDir dir;
  const auto target = dir.write("real.yaml", "migration: m\nphase: planned\n");
  const auto link = dir.path() / "link.yaml";
  std::filesystem::create_symlink(target, link);
  std::string error;
  ASSERT_TRUE(set_phase_in_file(link, Phase::kContracted, error)) << error;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(read_file(target), "migration: m\nphase: contracted\n");
}

TEST(PhaseFileTest, ReportsErrors) {
  const TempDir dir;
  std::string error;
  EXPECT_FALSE(set_phase_in_file(dir.path() / "missing.yaml", Phase::kPlanned, error));
  EXPECT_EQ(error, "cannot read " + (dir.path() / "missing.yaml").string() +
                       ": No such file or directory");
  const auto bad = dir.write("bad.yaml", "- a\n");
  EXPECT_FALSE(set_phase_in_file(bad, Phase::kExpanded, error));
  EXPECT_EQ(error, bad.string() + ": " + "the file is not one YAML mapping; fix it with 'pgshim check' first");
}

}  // namespace
}  // namespace pgshim::rules
