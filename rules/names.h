// The spellings of phases and client versions in rule files, on the command line
// (`pgshim phase --set`, `pgshim rewrite --as`) and in `/rules` and metrics.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "rules/model.h"

namespace pgshim::rules {

// In phase order.
inline constexpr std::array<std::string_view, 4> kPhaseNames = {"planned", "expanded",
                                                                "backfilled", "contracted"};
inline constexpr std::array<std::string_view, 2> kClientVersionNames = {"old", "new"};
// In the order of ChangeKind's alternatives.
inline constexpr std::array<std::string_view, 5> kChangeKinds = {
    "rename_column", "retype_column", "add_column", "drop_column", "rename_table"};

[[nodiscard]] std::string_view phase_name(Phase phase);
// Exact, lower-case names only; nullopt for anything else.
[[nodiscard]] std::optional<Phase> parse_phase(std::string_view text);

[[nodiscard]] std::string_view client_version_name(ClientVersion version);
[[nodiscard]] std::optional<ClientVersion> parse_client_version(std::string_view text);

[[nodiscard]] std::string_view change_kind_name(const ChangeKind& kind);
// What a change is about: "users.name" for a column change, "users" for a table
// rename (with its schema when the rule names one), as display_table_name spells it.
[[nodiscard]] std::string change_target(const ChangeKind& kind);

}  // namespace pgshim::rules
