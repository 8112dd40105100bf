// Internal to the rule loader: reading one item of `changes:` into a Change.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <optional>
#include <string_view>

#include "rules/model.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {

inline constexpr std::array<std::string_view, 5> kChangeKinds = {
    "rename_column", "retype_column", "add_column", "drop_column", "rename_table"};

// Reads one change; reports every problem and returns nullopt if there was any.
// `text` is the file's source, to place errors on empty items.
[[nodiscard]] std::optional<Change> read_change(const YAML::Node& item, std::string_view text,
                                                Diagnostics& diag);

}  // namespace pgshim::rules
