#include "rules/names.h"

#include "rules/identifier.h"

#include <cstddef>
#include <type_traits>
#include <variant>

namespace pgshim::rules {

std::string_view phase_name(Phase phase) {
  return kPhaseNames[static_cast<std::size_t>(phase)];
}

std::optional<Phase> parse_phase(std::string_view text) {
  for (std::size_t i = 0; i < kPhaseNames.size(); ++i) {
    if (kPhaseNames[i] == text) return static_cast<Phase>(i);
  }
  return std::nullopt;
}

std::string_view client_version_name(ClientVersion version) {
  return kClientVersionNames[static_cast<std::size_t>(version)];
}

std::optional<ClientVersion> parse_client_version(std::string_view text) {
  if (text == "old") return ClientVersion::kOld;
  if (text == "new") return ClientVersion::kNew;
  return std::nullopt;
}

std::string_view change_kind_name(const ChangeKind& kind) { return kChangeKinds[kind.index()]; }

std::string change_target(const ChangeKind& kind) {
  return std::visit(
      [&](const auto& change) -> std::string {
        using T = std::decay_t<decltype(change)>;
        if constexpr (std::is_same_v<T, RenameTable>) {
          return display_table_name(change.from);
        } else if constexpr (std::is_same_v<T, RenameColumn>) {
          return display_table_name(change.table) + "." + display_identifier(change.from);
        } else if constexpr (std::is_same_v<T, RetypeColumn>) {
          return display_table_name(change.table) + "." + display_identifier(change.from.name);
        } else {
          return display_table_name(change.table) + "." + display_identifier(change.column.name);
        }
      },
      kind);
}

}  // namespace pgshim::rules
