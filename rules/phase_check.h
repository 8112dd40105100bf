// Checks that the database looks the way each migration's phase says it does
// (DESIGN.md section 3, "The phase says what physically exists"): for
// `pgshim check --dsn` and for the proxy, which refuses to guess when a rule
// and the schema disagree.
#pragma once

#include <string>
#include <vector>

#include "rules/model.h"
#include "rules/schema_cache.h"

namespace pgshim::rules {

struct PhaseProblem {
  std::size_t migration = 0;  // index in RuleSet::migrations
  std::string message;        // names the file, the table or column, and the fix
};

// Every disagreement between `rules` and `schema`; empty when all agree.
[[nodiscard]] std::vector<PhaseProblem> check_phases(const RuleSet& rules, const SchemaCache& schema);

}  // namespace pgshim::rules
