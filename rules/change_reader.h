// Internal to the rule loader: reading one item of `changes:` into a Change.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>

#include "rules/model.h"
#include "rules/names.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {

// Reads one change; reports every problem and returns nullopt if there was any.
// `text` is the file's source, to place errors on empty items.
[[nodiscard]] std::optional<Change> read_change(const YAML::Node& item, std::string_view text,
                                                Diagnostics& diag);

}  // namespace pgshim::rules
