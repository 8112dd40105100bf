#include "rules/phase_edit.h"

#include <yaml-cpp/yaml.h>

#include <optional>

#include "rules/names.h"
#include "rules/yaml_reader.h"

namespace pgshim::rules {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

struct Edit {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::string replacement;
};

// The top-level key `name`: its node pair, or nullopt; error if given twice.
std::optional<std::pair<YAML::Node, YAML::Node>> find_top_key(const YAML::Node& doc,
                                                              std::string_view name,
                                                              std::string& error) {
  std::optional<std::pair<YAML::Node, YAML::Node>> found;
  for (const auto& entry : doc) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != name) continue;
    if (found) {
      error = "'" + std::string(name) + "' is given twice at the top level; keep only one";
      return std::nullopt;
    }
    found.emplace(entry.first, entry.second);
  }
  return found;
}

// End of a quoted scalar starting at `begin` (one past the closing quote).
std::size_t quoted_end(std::string_view text, std::size_t begin) {
  const char quote = text[begin];
  for (std::size_t i = begin + 1; i < text.size(); ++i) {
    if (quote == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == quote) {
      if (quote == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return kNpos;
}

// End of a plain scalar on its line: before a comment (` #`) or, in a flow
// mapping, a `,` or `}`; trailing blanks excluded.
std::size_t plain_end(std::string_view text, std::size_t begin, bool flow) {
  std::size_t i = begin;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') {
    if (text[i] == '#' && i > begin && (text[i - 1] == ' ' || text[i - 1] == '\t')) break;
    if (flow && (text[i] == ',' || text[i] == '}' || text[i] == ']')) break;
    ++i;
  }
  while (i > begin && (text[i - 1] == ' ' || text[i - 1] == '\t')) --i;
  return i;
}

// The offset just past the `:` that follows the key at `key_begin`.
std::size_t after_colon(std::string_view text, std::size_t key_begin) {
  std::size_t i = key_begin;
  if (text[i] == '"' || text[i] == '\'') {
    i = quoted_end(text, i);
  } else {
    while (i < text.size() && text[i] != ':' && text[i] != '\n') ++i;
  }
  while (i != kNpos && i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  return i != kNpos && i < text.size() && text[i] == ':' ? i + 1 : kNpos;
}

// Replaces the existing value (or fills an empty one) of the `phase:` key.
bool edit_value(std::string_view text, const YAML::Node& key, const YAML::Node& value, bool flow,
                std::string_view name, Edit& edit, std::string& error) {
  const std::size_t colon_end = after_colon(text, source_offset(text, key.Mark()));
  if (colon_end == kNpos) {
    error = "cannot find the ':' after the top-level 'phase' key";
    return false;
  }
  std::size_t begin = colon_end;
  while (begin < text.size() && (text[begin] == ' ' || text[begin] == '\t')) ++begin;
  const bool empty = begin == text.size() || text[begin] == '#' || text[begin] == '\n' ||
                     text[begin] == '\r' || (flow && (text[begin] == ',' || text[begin] == '}'));
  if (empty && value.IsNull()) {
    edit = Edit{colon_end, colon_end, " " + std::string(name)};
    return true;
  }
  if (!value.IsScalar() && !value.IsNull()) {
    error = "the top-level 'phase' is not a single value; make it 'phase: <phase>' first";
    return false;
  }
  begin = source_offset(text, value.Mark());
  if (begin == kNpos || begin >= text.size()) {
    error = "cannot locate the value of 'phase'";
    return false;
  }
  if (text[begin] == '"' || text[begin] == '\'') {
    const std::size_t end = quoted_end(text, begin);
    if (end == kNpos) {
      error = "the quoted value of 'phase' is not closed";
      return false;
    }
    const std::string quote(1, text[begin]);
    edit = Edit{begin, end, quote + std::string(name) + quote};
    return true;
  }
  edit = Edit{begin, plain_end(text, begin, flow), std::string(name)};
  return true;
}

// Adds `phase: <name>` on a line of its own after the `migration:` line.
bool add_line(std::string_view text, const YAML::Node& doc, bool flow, std::string_view name,
              Edit& edit, std::string& error) {
  const auto migration = find_top_key(doc, "migration", error);
  if (!migration) {
    if (error.empty()) error = "the file has no top-level 'migration' key to add 'phase' after";
    return false;
  }
  if (flow) {
    error = "the file is one flow mapping ({...}); add 'phase' by hand";
    return false;
  }
  const YAML::Node& last = migration->second.IsNull() ? migration->first : migration->second;
  const std::size_t line_begin = source_offset(text, last.Mark());
  if (line_begin == kNpos) {
    error = "cannot locate the 'migration' line";
    return false;
  }
  const std::string newline = text.find("\r\n") != kNpos ? "\r\n" : "\n";
  const std::string indent(static_cast<std::size_t>(migration->first.Mark().column), ' ');
  const std::string line = indent + "phase: " + std::string(name);
  const std::size_t eol = text.find('\n', line_begin);
  if (eol == kNpos) {
    edit = Edit{text.size(), text.size(), newline + line + newline};
  } else {
    edit = Edit{eol + 1, eol + 1, line + newline};
  }
  return true;
}

std::optional<YAML::Node> load_document(std::string_view text, std::string& error) {
  try {
    YamlStream stream = parse_yaml(text);
    if (stream.second_document || !stream.first.IsMap()) {
      error = "the file is not one YAML mapping; fix it with 'pgshim check' first";
      return std::nullopt;
    }
    return stream.first;
  } catch (const YAML::Exception& e) {
    error = "the file is not valid YAML (line " + std::to_string(e.mark.line + 1) + ", column " +
            std::to_string(e.mark.column + 1) + ": " + e.msg + "); fix it first";
    return std::nullopt;
  }
}

// Re-parses the edited text: the top-level phase must now read `name`.
bool verify(std::string_view text, std::string_view name, std::string& error) {
  const std::optional<YAML::Node> doc = load_document(text, error);
  if (!doc) return false;
  const auto phase = find_top_key(*doc, "phase", error);
  if (phase && phase->second.IsScalar() && phase->second.Scalar() == name) return true;
  error = "editing 'phase' in place did not give a valid file; edit it by hand";
  return false;
}

}  // namespace

std::string set_phase_in_text(std::string_view yaml_text, Phase phase, std::string& error) {
  error.clear();
  const std::string_view name = phase_name(phase);
  const std::optional<YAML::Node> doc = load_document(yaml_text, error);
  if (!doc) return "";
  const bool flow = doc->Style() == YAML::EmitterStyle::Flow;
  const auto current = find_top_key(*doc, "phase", error);
  if (!error.empty()) return "";
  Edit edit;
  const bool ok = current ? edit_value(yaml_text, current->first, current->second, flow, name,
                                       edit, error)
                          : add_line(yaml_text, *doc, flow, name, edit, error);
  if (!ok) return "";
  std::string out(yaml_text.substr(0, edit.begin));
  out += edit.replacement;
  out += yaml_text.substr(edit.end);
  if (!verify(out, name, error)) return "";
  return out;
}

}  // namespace pgshim::rules
