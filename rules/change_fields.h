// Internal to the rule loader: the fields of each change kind (DESIGN.md section 2),
// read from the mapping under the kind's key, checked, and folded as PostgreSQL
// folds identifiers. Each reader reports every problem and returns nullopt if any.
#pragma once

#include <optional>

#include "rules/model.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {

[[nodiscard]] std::optional<ChangeKind> read_rename_column(const MapView& body, Diagnostics& diag);
[[nodiscard]] std::optional<ChangeKind> read_retype_column(const MapView& body, Diagnostics& diag);
[[nodiscard]] std::optional<ChangeKind> read_add_column(const MapView& body, Diagnostics& diag);
[[nodiscard]] std::optional<ChangeKind> read_drop_column(const MapView& body, Diagnostics& diag);
[[nodiscard]] std::optional<ChangeKind> read_rename_table(const MapView& body, Diagnostics& diag);

}  // namespace pgshim::rules
