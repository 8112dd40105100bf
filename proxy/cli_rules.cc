#include "proxy/cli_rules.h"

#include <iostream>
#include <memory>

#include "proxy/catalog_reader.h"
#include "rules/loader.h"
#include "rules/names.h"
#include "rules/phase_check.h"
#include "rules/phase_edit.h"
#include "rules/rewriter.h"

namespace pgshim::proxy {
namespace {

struct RuleFlags {
  std::string rules_dir;
  std::string dsn;
  std::string version;
  std::string phase;
  std::string sql;
  std::string migration;
};

// Loads the rules or prints every error; nullopt means exit code 2.
std::optional<rules::RuleSet> load_or_report(const std::string& dir) {
  auto loaded = rules::load_rules_dir(dir);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors()) std::cerr << rules::format_error(error) << "\n";
    return std::nullopt;
  }
  return std::move(loaded.rules());
}

int run_check(const RuleFlags& f) {
  auto rules = load_or_report(f.rules_dir);
  if (!rules) return 2;
  std::cout << f.rules_dir << ": " << rules->migrations.size() << " migration(s), valid\n";
  if (f.dsn.empty()) return 0;
  std::string error;
  auto schema = read_schema(f.dsn, error);
  if (!schema) {
    std::cerr << "cannot read the schema: " << error;
    return 1;
  }
  const auto problems = rules::check_phases(*rules, *schema);
  for (const auto& p : problems) std::cerr << p.message << "\n";
  if (!problems.empty()) return 2;
  std::cout << "the database matches every migration's phase\n";
  return 0;
}

int run_rewrite(const RuleFlags& f) {
  auto rules = load_or_report(f.rules_dir);
  if (!rules) return 2;
  const auto version = rules::parse_client_version(f.version);
  if (!version) {
    std::cerr << "--as must be old or new\n";
    return 2;
  }
  std::optional<rules::Phase> phase;
  if (!f.phase.empty()) {
    phase = rules::parse_phase(f.phase);
    if (!phase) {
      std::cerr << "--phase must be one of planned, expanded, backfilled, contracted\n";
      return 2;
    }
  }
  rules::StaticSchemaCache schema;
  if (!f.dsn.empty()) {
    std::string error;
    auto read = read_schema(f.dsn, error);
    if (!read) {
      std::cerr << "cannot read the schema: " << error;
      return 1;
    }
    schema = std::move(*read);
  }
  const auto result = rules::rewrite_for_cli(*rules, *version, phase, schema, f.sql);
  switch (result.status) {
    case rules::RewriteStatus::kUnchanged:
      std::cout << f.sql << "\n";
      return 0;
    case rules::RewriteStatus::kRewritten:
      std::cout << result.sql << "\n";
      return 0;
    case rules::RewriteStatus::kError:
      std::cerr << "ERROR " << result.sqlstate << ": " << result.message << "\n";
      return 2;
  }
  return 1;
}

int run_phase(const RuleFlags& f) {
  auto rules = load_or_report(f.rules_dir);
  if (!rules) return 2;
  const auto phase = rules::parse_phase(f.phase);
  if (!phase) {
    std::cerr << "--set must be one of planned, expanded, backfilled, contracted\n";
    return 2;
  }
  for (const auto& migration : rules->migrations) {
    if (migration.name != f.migration) continue;
    std::string error;
    if (!rules::set_phase_in_file(migration.file, *phase, error)) {
      std::cerr << error << "\n";
      return 1;
    }
    std::cout << migration.file << ": phase " << rules::phase_name(migration.phase) << " -> "
              << rules::phase_name(*phase) << "\n";
    return 0;
  }
  std::cerr << "no migration named '" << f.migration << "' in " << f.rules_dir << "\n";
  return 2;
}

}  // namespace

void add_rule_commands(CLI::App& app, std::function<int()>& run) {
  auto flags = std::make_shared<RuleFlags>();
  auto* check = app.add_subcommand("check", "validate rule files, and with --dsn the live schema");
  check->add_option("--rules", flags->rules_dir, "rules directory")->required();
  check->add_option("--dsn", flags->dsn, "libpq connection string of the database to check");
  check->callback([flags, &run] { run = [flags] { return run_check(*flags); }; });

  auto* rewrite = app.add_subcommand("rewrite", "print a statement as pgshim would send it");
  rewrite->add_option("--rules", flags->rules_dir, "rules directory")->required();
  rewrite->add_option("--as", flags->version, "client version: old or new")->required();
  rewrite->add_option("--phase", flags->phase, "override every migration's phase");
  rewrite->add_option("--schema-from", flags->dsn, "read tables and columns from this database");
  rewrite->add_option("sql", flags->sql, "the SQL statement(s)")->required();
  rewrite->callback([flags, &run] { run = [flags] { return run_rewrite(*flags); }; });

  auto* phase = app.add_subcommand("phase", "set a migration's phase in its rule file");
  phase->add_option("--rules", flags->rules_dir, "rules directory")->required();
  phase->add_option("--migration", flags->migration, "migration name")->required();
  phase->add_option("--set", flags->phase, "planned | expanded | backfilled | contracted")->required();
  phase->callback([flags, &run] { run = [flags] { return run_phase(*flags); }; });
}

}  // namespace pgshim::proxy
