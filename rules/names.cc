#include "rules/names.h"

#include <cstddef>

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

}  // namespace pgshim::rules
