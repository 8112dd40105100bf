// Fuzz target `rules_loader`: one rule file's YAML text (DESIGN.md section 2)
// through everything pgshim does with it: load and validate, switch its phase
// in place (`pgshim phase`), compile it into a Rewriter, decide a client's
// version with its selectors, and rewrite a few statements with it.
//
// Properties beyond "no crash, no hang": a file either loads into exactly one
// migration or gives errors, each with the file name, a position and a
// sentence; a phase edit either fails with a sentence or gives a file that
// loads into the same migration in the new phase; rewrites keep the contract
// of rewrite_check.h whatever the rules say.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "rules/client_profile.h"
#include "rules/loader.h"
#include "rules/phase_edit.h"
#include "rules/rewriter.h"
#include "tests/fuzz/rewrite_check.h"
#include "tests/unit/rules/rewrite_fixture.h"

namespace pgshim::fuzz {
namespace {

using rules::LoadError;
using rules::LoadResult;
using rules::Migration;

const std::string kFile = "fuzz.yaml";

// Statements of every kind over the tables rule files usually name.
constexpr std::string_view kStatements[] = {
    "SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.fullname = $1",
    "INSERT INTO orders (id, user_id, price) VALUES (1, 2, '9.99') RETURNING *",
    "UPDATE customer SET name = 'x' WHERE id IN (SELECT user_id FROM orders) RETURNING *",
};

void check_errors(const LoadResult& result) {
  require(!result.errors().empty(), "a rule file neither loads nor gives an error");
  for (const LoadError& error : result.errors()) {
    require(error.file == kFile && !error.message.empty() && error.line >= 0 && error.column >= 0,
            "a load error without file, position or sentence", rules::format_error(error));
  }
}

std::string summary(const Migration& m) {
  std::string s = m.name + "|" + m.database_glob + "|" + m.old_selector.application_name + "|" +
                  m.old_selector.user + "|" + m.old_selector.database + "|" + m.new_selector.application_name +
                  "|" + m.new_selector.user + "|" + m.new_selector.database + "|" +
                  std::to_string(static_cast<int>(m.default_version)) + "|" + (m.strict ? "strict" : "lax") + "|" +
                  std::to_string(m.changes.size());
  return s;
}

void check_phase_edit(std::string_view text, const Migration& loaded) {
  const auto phase = static_cast<rules::Phase>((static_cast<int>(loaded.phase) + 1) % 4);
  std::string error;
  const std::string edited = rules::set_phase_in_text(text, phase, error);
  if (edited.empty()) {
    require(!error.empty(), "a failed phase edit without a sentence");
    return;
  }
  const LoadResult again = rules::load_rule_text(edited, kFile);
  require(again.ok(), "a phase edit broke a valid rule file",
          std::string(edited) + "\n" + (again.ok() ? "" : rules::format_error(again.errors().front())));
  const Migration& m = again.rules().migrations.front();
  require(m.phase == phase, "a phase edit did not set the phase", edited);
  require(summary(m) == summary(loaded), "a phase edit changed more than the phase", edited);
}

void rewrite_with(const rules::RuleSet& rule_set) {
  auto created = rules::Rewriter::create(rule_set);
  if (std::holds_alternative<std::string>(created)) return;  // an up/down that does not parse
  const auto& rewriter = std::get<std::shared_ptr<const rules::Rewriter>>(created);
  const Migration& m = rule_set.migrations.front();
  const rules::StaticSchemaCache schema = rules::testing::fixture_schema(m.phase);
  const rules::ClientProfile selected =
      rules::profile_for(rule_set, {"shop-v2.1", "app_1", "shop", std::nullopt});
  for (std::string_view sql : kStatements) {
    check_rewrite(sql, rewriter->rewrite(sql, selected, schema));
    check_rewrite(sql, rewriter->rewrite(sql, rules::ClientProfile::uniform(rules::ClientVersion::kOld), schema));
    check_rewrite(sql, rewriter->rewrite(sql, rules::ClientProfile::uniform(rules::ClientVersion::kNew), schema));
  }
}

}  // namespace
}  // namespace pgshim::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pgshim::fuzz;
  const std::string_view text = as_text(data, size);
  const LoadResult result = pgshim::rules::load_rule_text(text, kFile);
  if (!result.ok()) {
    check_errors(result);
    return 0;
  }
  require(result.rules().migrations.size() == 1 && result.rules().generation != 0,
          "a loaded rule file is not exactly one migration");
  check_phase_edit(text, result.rules().migrations.front());
  rewrite_with(result.rules());
  return 0;
}
