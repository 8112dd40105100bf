#include "rules/change_reader.h"

#include <algorithm>
#include <span>
#include <vector>

#include "rules/change_fields.h"
#include "rules/suggest.h"

namespace pgshim::rules {
namespace {

constexpr std::array<std::string_view, 3> kRenameColumnKeys = {"table", "from", "to"};
constexpr std::array<std::string_view, 5> kRetypeColumnKeys = {"table", "from", "to", "up",
                                                               "down"};
constexpr std::array<std::string_view, 3> kColumnChangeKeys = {"table", "column", "default"};
constexpr std::array<std::string_view, 2> kRenameTableKeys = {"from", "to"};

std::span<const std::string_view> keys_of(std::string_view kind) {
  if (kind == "rename_column") return kRenameColumnKeys;
  if (kind == "retype_column") return kRetypeColumnKeys;
  if (kind == "rename_table") return kRenameTableKeys;
  return kColumnChangeKeys;
}

std::string_view example_of(std::string_view kind) {
  if (kind == "rename_column") return "{ table: users, from: fullname, to: display_name }";
  if (kind == "retype_column") return "{ table: t, from: {...}, to: {...}, up: ..., down: ... }";
  if (kind == "rename_table") return "{ from: customer, to: customers }";
  return "{ table: users, column: { name: nickname, type: text } }";
}

bool contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Keys next to the kind: a field of the kind that is not indented under it (the
// usual slip), a second kind, or something unknown. Returns false if any.
bool check_siblings(const MapView& item, const Field& kind, Diagnostics& diag) {
  bool clean = true;
  for (const Field& field : item.fields()) {
    if (field.name == kind.name && field.key.Mark().pos == kind.key.Mark().pos) continue;
    clean = false;
    if (contains(kChangeKinds, field.name)) {
      diag.report(field.key.Mark(), "a change has exactly one kind, but this one has two ('" +
                                        kind.name + "' and '" + field.name +
                                        "'); start a new list item ('- ') for '" + field.name +
                                        "'");
    } else if (contains(keys_of(kind.name), field.name)) {
      diag.report(field.key.Mark(), "'" + field.name + "' is not indented under '" + kind.name +
                                        "'; indent it further so that it belongs to " +
                                        kind.name);
    } else {
      diag.report(field.key.Mark(), "unknown key '" + field.name + "' next to '" + kind.name +
                                        "'; a change holds only its kind, with the kind's "
                                        "fields indented under it");
    }
  }
  return clean;
}

// A change without any kind key: point at a likely misspelt kind, or say what
// a change must start with.
void report_no_kind(const MapView& item, const YAML::Mark& mark, Diagnostics& diag) {
  bool suggested = false;
  for (const Field& field : item.fields()) {
    if (const auto best = closest_match(field.name, kChangeKinds)) {
      diag.report(field.key.Mark(), "unknown change kind '" + field.name + "'; did you mean '" +
                                        std::string(*best) + "'?");
      suggested = true;
    }
  }
  if (!suggested) {
    diag.report(mark, "a change needs exactly one kind, but this one has none; start it with " +
                          join_choices(kChangeKinds));
  }
}

std::optional<ChangeKind> read_kind(const Field& kind, Diagnostics& diag) {
  const std::optional<MapView> body = read_map(kind, example_of(kind.name), diag);
  if (!body) return std::nullopt;
  body->check_keys(keys_of(kind.name), diag);
  if (kind.name == "rename_column") return read_rename_column(*body, diag);
  if (kind.name == "retype_column") return read_retype_column(*body, diag);
  if (kind.name == "add_column") return read_add_column(*body, diag);
  if (kind.name == "drop_column") return read_drop_column(*body, diag);
  return read_rename_table(*body, diag);
}

}  // namespace

std::optional<Change> read_change(const YAML::Node& item, std::string_view text,
                                  Diagnostics& diag) {
  const YAML::Mark mark = item_mark(item, text);
  if (!item.IsMap()) {
    diag.report(mark, "a change must be a mapping that starts with its kind (" +
                          join_choices(kChangeKinds) +
                          "); write it as '- rename_column:' with the fields indented below");
    return std::nullopt;
  }
  const MapView view(item, "this change", mark);
  const auto& fields = view.fields();
  const auto kind = std::find_if(fields.begin(), fields.end(), [](const Field& field) {
    return contains(kChangeKinds, field.name);
  });
  if (kind == fields.end()) {
    report_no_kind(view, mark, diag);
    return std::nullopt;
  }
  if (!check_siblings(view, *kind, diag)) return std::nullopt;
  std::optional<ChangeKind> parsed = read_kind(*kind, diag);
  if (!parsed) return std::nullopt;
  return Change{std::move(*parsed), diag.pos(kind->key.Mark())};
}

}  // namespace pgshim::rules
