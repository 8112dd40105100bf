#include "rules/client_profile.h"

namespace pgshim::rules {

ClientProfile profile_for(const RuleSet& rules, const StartupParams& params) {
  ClientProfile profile{0, 0};
  for (std::size_t i = 0; i < rules.migrations.size() && i < 64; ++i) {
    const Migration& m = rules.migrations[i];
    if (!migration_applies_to_database(m, params.database)) continue;
    profile.active |= std::uint64_t{1} << i;
    if (decide_version(m, params) == ClientVersion::kNew) profile.speaks_new |= std::uint64_t{1} << i;
  }
  return profile;
}

}  // namespace pgshim::rules
