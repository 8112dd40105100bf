// A session's ClientProfile, decided once at startup (DESIGN.md section 2):
// which migrations apply to its database and which version it speaks in each.
#pragma once

#include "rules/model.h"
#include "rules/rewrite_result.h"
#include "rules/version_match.h"

namespace pgshim::rules {

// Bit i of the profile stands for rules.migrations[i] (at most 64).
[[nodiscard]] ClientProfile profile_for(const RuleSet& rules, const StartupParams& params);

}  // namespace pgshim::rules
