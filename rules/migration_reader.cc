#include "rules/migration_reader.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <exception>

#include "rules/change_reader.h"
#include "rules/names.h"
#include "rules/suggest.h"
#include "rules/validation.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {
namespace {

constexpr std::array<std::string_view, 6> kTopKeys = {"migration", "database", "phase",
                                                      "versions",  "strict",   "changes"};
constexpr std::array<std::string_view, 3> kVersionKeys = {"old", "new", "default"};
constexpr std::array<std::string_view, 3> kSelectorKeys = {"application_name", "user",
                                                           "database"};
constexpr std::string_view kSelectorNote =
    "selectors match only application_name, user and database";

// yaml-cpp's message, plus what usually causes it.
std::string syntax_message(const std::string& msg) {
  std::string hint = "fix the YAML at this position (indentation, quotes, brackets)";
  if (msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ) {
    hint = "check the indentation: the keys of one mapping, and the '- ' items of one list, "
           "must start in the same column";
  } else if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) {
    hint = "close the '{' with '}'";
  } else if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) {
    hint = "close the '[' with ']'";
  } else if (msg == YAML::ErrorMsg::MAP_VALUE) {
    hint = "a value that contains ': ' must be quoted";
  } else if (msg.starts_with("illegal tab")) {
    hint = "indent with spaces, not tabs";
  } else if (msg.starts_with("unexpected '")) {
    hint = "',', ']' and '}' belong inside [ ] or { }; quote the value or remove the character";
  }
  return "invalid YAML: " + msg + "; " + hint;
}

std::optional<VersionSelector> read_selector(const Field& field, Diagnostics& diag) {
  const std::optional<MapView> view =
      read_map(field, "{ application_name: \"shop-v1*\" }", diag);
  if (!view) return std::nullopt;
  view->check_keys(kSelectorKeys, diag, "selector key", kSelectorNote);
  if (view->fields().empty()) {
    diag.report(field.key.Mark(), "'" + field.name +
                                      "' is an empty selector; give application_name, user or "
                                      "database (globs), or remove '" + field.name + "'");
    return std::nullopt;
  }
  VersionSelector selector;
  const auto read = [&](std::string_view key, std::string& out) {
    if (const std::optional<Field> glob = view->find(key)) {
      out = read_scalar(*glob, "<glob such as \"shop-v1*\">", diag).value_or("");
    }
  };
  read("application_name", selector.application_name);
  read("user", selector.user);
  read("database", selector.database);
  return selector;
}

bool same_selector(const VersionSelector& a, const VersionSelector& b) {
  return a.application_name == b.application_name && a.user == b.user &&
         a.database == b.database;
}

void read_versions(const Field& field, Diagnostics& diag, Migration& migration) {
  const std::optional<MapView> view = read_map(
      field, "{ old: { application_name: \"v1*\" }, new: { ... }, default: old }", diag);
  if (!view) return;
  view->check_keys(kVersionKeys, diag);
  if (const auto old_field = view->find("old")) {
    migration.old_selector = read_selector(*old_field, diag).value_or(VersionSelector{});
  }
  if (const auto new_field = view->find("new")) {
    migration.new_selector = read_selector(*new_field, diag).value_or(VersionSelector{});
    if (!migration.new_selector.empty() &&
        same_selector(migration.old_selector, migration.new_selector)) {
      diag.report(new_field->key.Mark(), "'new' selects the same clients as 'old', so no client "
                                         "can be told apart; change one of them");
    }
  }
  if (const auto default_field = view->find("default")) {
    const std::optional<std::string> text = read_scalar(*default_field, "old|new", diag);
    if (!text) return;
    if (const auto version = parse_client_version(*text)) {
      migration.default_version = *version;
    } else {
      diag.report(default_field->value_mark(),
                  "invalid default version '" + *text + "'; use old or new");
    }
  }
}

void read_phase(const Field& field, Diagnostics& diag, Migration& migration) {
  const std::optional<std::string> text = read_scalar(field, "planned|expanded|backfilled|contracted", diag);
  if (!text) return;
  if (const auto phase = parse_phase(*text)) {
    migration.phase = *phase;
    return;
  }
  std::string message = "invalid phase '" + *text + "'; ";
  if (const auto best = closest_match(*text, kPhaseNames)) {
    message += "did you mean '" + std::string(*best) + "'? (valid phases: " +
               join_choices(kPhaseNames, "and") + ")";
  } else {
    message += "use " + join_choices(kPhaseNames);
  }
  diag.report(field.value_mark(), std::move(message));
}

void read_strict(const Field& field, Diagnostics& diag, Migration& migration) {
  const std::optional<std::string> text = read_scalar(field, "true|false", diag);
  if (!text) return;
  if (*text == "true" || *text == "True" || *text == "TRUE") {
    migration.strict = true;
  } else if (*text == "false" || *text == "False" || *text == "FALSE") {
    migration.strict = false;
  } else {
    diag.report(field.value_mark(), "'strict' must be true or false, not '" + *text + "'");
  }
}

void read_changes(const Field& field, std::string_view text, Diagnostics& diag,
                  Migration& migration) {
  if (!field.value.IsSequence() || field.value.size() == 0) {
    diag.report(field.value_mark(), "'changes' must be a non-empty list of changes; add items "
                                    "such as '- rename_column: { table: t, from: a, to: b }'");
    return;
  }
  for (const YAML::Node& item : field.value) {
    if (std::optional<Change> change = read_change(item, text, diag)) {
      migration.changes.push_back(std::move(*change));
    }
  }
}

void read_top(const YAML::Node& doc, std::string_view text, Diagnostics& diag,
              ParsedMigration& parsed) {
  Migration& migration = parsed.migration;
  const MapView top(doc, "the file", YAML::Mark());
  top.check_keys(kTopKeys, diag);
  if (const auto name = top.require("migration", "<unique name>", diag)) {
    migration.name = read_scalar(*name, "<unique name>", diag).value_or("");
    parsed.name_pos = diag.pos(name->value_mark());
  }
  if (const auto database = top.find("database")) {
    migration.database_glob =
        read_scalar(*database, "<database name or glob>", diag).value_or("");
  }
  if (const auto phase = top.find("phase")) read_phase(*phase, diag, migration);
  if (const auto versions = top.find("versions")) read_versions(*versions, diag, migration);
  if (const auto strict = top.find("strict")) read_strict(*strict, diag, migration);
  if (const auto changes = top.require("changes", "<list of changes>", diag)) {
    read_changes(*changes, text, diag, migration);
  }
}

// The single document of the file, or an error.
std::optional<YAML::Node> parse_document(std::string_view text, Diagnostics& diag) {
  YamlStream stream;
  try {
    stream = parse_yaml(text);
  } catch (const YAML::ParserException& e) {
    diag.report(e.mark, syntax_message(e.msg));
    return std::nullopt;
  }
  if (stream.first.IsNull()) {
    diag.report(SourcePos{diag.file(), 1, 1},
                "the file is empty; a rule file needs at least 'migration' and 'changes'");
    return std::nullopt;
  }
  if (stream.second_document) {
    diag.report(*stream.second_document, "the file holds more than one YAML document; put each "
                                         "migration in a file of its own");
    return std::nullopt;
  }
  if (!stream.first.IsMap()) {
    diag.report(stream.first.Mark(), "a rule file must be a mapping with keys such as migration, "
                                     "phase, versions and changes; write 'migration: <name>' and "
                                     "so on");
    return std::nullopt;
  }
  return stream.first;
}

}  // namespace

std::optional<ParsedMigration> read_migration(std::string_view text, const std::string& file,
                                              std::vector<LoadError>& errors) {
  Diagnostics diag(file, errors);
  const std::size_t before = errors.size();
  ParsedMigration parsed;
  parsed.migration.file = file;
  try {
    const std::optional<YAML::Node> doc = parse_document(text, diag);
    if (!doc) return std::nullopt;
    read_top(*doc, text, diag, parsed);
    if (errors.size() == before) check_changes_within(parsed.migration, diag);
  } catch (const YAML::Exception& e) {
    diag.report(e.mark, "cannot read this part of the file (" + e.msg + "); simplify the YAML here");
  } catch (const std::exception& e) {
    diag.report(SourcePos{file, 0, 0}, std::string("cannot load the file: ") + e.what());
  }
  if (errors.size() != before) return std::nullopt;
  return parsed;
}

}  // namespace pgshim::rules
