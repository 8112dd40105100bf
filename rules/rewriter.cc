#include "rules/rewriter.h"

#include <atomic>

#include "parser/analysis.h"
#include "rules/planner.h"

namespace pgshim::rules {

namespace {

std::uint64_t next_instance() {
  static std::atomic<std::uint64_t> counter{1};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

Rewriter::Rewriter(RewriteRules rules)
    : rules_(std::move(rules)), prefilter_(rules_.table_names()), instance_(next_instance()) {}

std::variant<std::shared_ptr<const Rewriter>, std::string> Rewriter::create(const RuleSet& rules,
                                                                            std::optional<Phase> phase_override) {
  auto compiled = RewriteRules::compile(rules, phase_override);
  if (auto* error = std::get_if<std::string>(&compiled)) return std::move(*error);
  return std::shared_ptr<const Rewriter>(new Rewriter(std::get<RewriteRules>(std::move(compiled))));
}

RewriteResult Rewriter::rewrite(std::string_view sql, const ClientProfile& profile,
                                const SchemaCache& schema) const {
  if (!prefilter_.may_match(sql)) return RewriteResult::unchanged();
  const parser::Analysis analysis(sql);
  if (!analysis.ok()) return RewriteResult::unchanged();  // the server reports its own syntax error
  Planner planner(rules_, profile, schema, analysis);
  return planner.run();
}

RewriteResult rewrite_for_cli(const RuleSet& rules, ClientVersion version, std::optional<Phase> phase,
                              const SchemaCache& schema, std::string_view sql) {
  auto rewriter = Rewriter::create(rules, phase);
  if (auto* error = std::get_if<std::string>(&rewriter)) {
    return RewriteResult::error(kFeatureNotSupported, "pgshim: " + *error);
  }
  return std::get<std::shared_ptr<const Rewriter>>(rewriter)->rewrite(sql, ClientProfile::uniform(version), schema);
}

}  // namespace pgshim::rules
