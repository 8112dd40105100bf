// Switching a migration's phase by editing its rule file in place (`pgshim phase`),
// so the operator's comments and formatting survive: only the value of the
// top-level `phase:` key changes, byte for byte everything else stays.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "rules/model.h"

namespace pgshim::rules {

// Returns `yaml_text` with the top-level `phase:` value replaced by `phase` (its
// quoting style kept), or, when there is no `phase:`, with a `phase: <name>` line
// added right after the `migration:` line. On failure (invalid YAML, no top-level
// mapping, `phase` given twice or not a single value, no `migration:` to add it
// after) returns "" and sets `error`. The result is re-parsed to prove the edit.
[[nodiscard]] std::string set_phase_in_text(std::string_view yaml_text, Phase phase,
                                            std::string& error);

// set_phase_in_text on a file, written atomically: a temporary file in the same
// directory (hidden, so a reload never picks it up), flushed, given the original
// permissions, then renamed over the file; a symlink is followed and its target
// replaced. A file that already has the phase is left untouched. It does not
// validate the rest of the file: load it before and after as needed.
[[nodiscard]] bool set_phase_in_file(const std::filesystem::path& path, Phase phase,
                                     std::string& error);

}  // namespace pgshim::rules
