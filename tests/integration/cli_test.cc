// The rule-file subcommands of the pgshim binary: output and exit codes
// (0 success, 1 runtime failure, 2 bad usage, invalid rules or a refused statement).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "tests/integration/harness/pg_server.h"
#include "tests/integration/harness/process.h"

namespace pgshim::testing {
namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("pgshim-cli-{}-{}", getpid(), counter_++);
    std::filesystem::create_directories(dir_ / "rules");
    write("shop.yaml", "migration: shop_0001\nphase: expanded  # a comment to keep\n"
                       "changes:\n  - rename_column: { table: users, from: fullname, to: display_name }\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / "rules" / name) << text; }
  // Runs pgshim with `args`; returns the exit code, output in `output`.
  int pgshim(std::vector<std::string> args, std::string& output) {
    args.insert(args.begin(), PGSHIM_BINARY);
    const std::string log = (dir_ / "out.log").string();
    std::filesystem::remove(log);
    const int code = run(args, log);
    output = read_file(log);
    return code;
  }
  std::string rules() const { return (dir_ / "rules").string(); }
  std::filesystem::path dir_;
  static inline int counter_ = 0;
};

TEST_F(CliTest, CheckAcceptsValidRulesAndRejectsInvalidOnesWithPosition) {
  std::string out;
  EXPECT_EQ(pgshim({"check", "--rules", rules()}, out), 0) << out;
  write("broken.yaml", "migration: broken\nphase: sideways\nchanges: []\n");
  EXPECT_EQ(pgshim({"check", "--rules", rules()}, out), 2) << out;
  EXPECT_NE(out.find("broken.yaml:2:8"), std::string::npos) << out;
}

TEST_F(CliTest, CheckWithDsnComparesThePhaseWithTheDatabase) {
  auto& pg = PgServer::shared();
  pg.create_database("cli_check");
  pg.exec("CREATE TABLE users (id int PRIMARY KEY, fullname text)", "cli_check");
  std::string out;
  EXPECT_EQ(pgshim({"check", "--rules", rules(), "--dsn", pg.dsn("cli_check")}, out), 2) << out;
  EXPECT_NE(out.find("users.display_name does not exist"), std::string::npos) << out;
  pg.exec("ALTER TABLE users ADD COLUMN display_name text", "cli_check");
  EXPECT_EQ(pgshim({"check", "--rules", rules(), "--dsn", pg.dsn("cli_check")}, out), 0) << out;
}

TEST_F(CliTest, RewritePrintsTheStatementOrTheError) {
  std::string out;
  EXPECT_EQ(pgshim({"rewrite", "--rules", rules(), "--as", "old", "UPDATE users SET fullname = 'x' WHERE id = 1"},
                   out), 0) << out;
  EXPECT_NE(out.find("display_name = 'x'"), std::string::npos) << out;
  EXPECT_EQ(pgshim({"rewrite", "--rules", rules(), "--as", "new", "--phase", "planned", "SELECT 1"}, out), 0);
  EXPECT_EQ(out, "SELECT 1\n");
  EXPECT_EQ(pgshim({"rewrite", "--rules", rules(), "--as", "new", "SELECT * FROM users"}, out), 2) << out;
  EXPECT_NE(out.find("--schema-from"), std::string::npos) << out;
  EXPECT_EQ(pgshim({"rewrite", "--rules", rules(), "--as", "newest", "SELECT 1"}, out), 2);
}

TEST_F(CliTest, PhaseEditsTheFileKeepingComments) {
  std::string out;
  EXPECT_EQ(pgshim({"phase", "--rules", rules(), "--migration", "shop_0001", "--set", "backfilled"}, out), 0) << out;
  EXPECT_NE(read_file((dir_ / "rules" / "shop.yaml").string()).find("phase: backfilled  # a comment to keep"),
            std::string::npos);
  EXPECT_EQ(pgshim({"phase", "--rules", rules(), "--migration", "nope", "--set", "planned"}, out), 2);
  EXPECT_EQ(pgshim({"phase", "--rules", rules(), "--migration", "shop_0001", "--set", "later"}, out), 2);
}

TEST_F(CliTest, ServeRefusesInvalidRulesAndBadUsage) {
  std::string out;
  write("broken.yaml", "migration: broken\nphase: sideways\n");
  EXPECT_EQ(pgshim({"serve", "--listen", "127.0.0.1:1", "--upstream", "127.0.0.1:2", "--rules", rules()}, out), 2)
      << out;
  EXPECT_NE(out.find("invalid rules"), std::string::npos) << out;
  EXPECT_EQ(pgshim({"serve", "--listen", "nonsense"}, out), 2) << out;
  EXPECT_EQ(pgshim({"frobnicate"}, out), 2) << out;
}

}  // namespace
}  // namespace pgshim::testing
