// Internal to the rule loader: reading yaml-cpp nodes with every problem reported
// as a LoadError at the node's position, and no exception escaping.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/loader.h"

namespace pgshim::rules {

// The first document of a YAML stream, and where a second one starts, if any.
struct YamlStream {
  YAML::Node first;  // Null for an empty stream
  std::optional<YAML::Mark> second_document;
};

// Parses `text` with yaml-cpp, guarded against yaml-cpp 0.7 repeating the same
// empty document forever (and eating all memory) when a document starts with a
// stray `,`, `]` or `}` (jbeder/yaml-cpp#1040, fixed upstream after 0.7 by #1319):
// it never calls YAML::LoadAll. Throws YAML::ParserException on invalid YAML.
[[nodiscard]] YamlStream parse_yaml(std::string_view text);

// Collects the errors of one file. yaml-cpp marks are 0-based; LoadError is 1-based.
class Diagnostics {
 public:
  Diagnostics(std::string file, std::vector<LoadError>& sink)
      : file_(std::move(file)), sink_(sink) {}

  void report(const YAML::Mark& mark, std::string message);
  void report(const SourcePos& pos, std::string message);
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] SourcePos pos(const YAML::Mark& mark) const;

 private:
  std::string file_;
  std::vector<LoadError>& sink_;
};

// One `key: value` pair of a mapping.
struct Field {
  std::string name;
  YAML::Node key;
  YAML::Node value;
  // Where to report a problem with the value: the value itself, or its key when the
  // value is empty (yaml-cpp puts an empty value at the next token).
  [[nodiscard]] YAML::Mark value_mark() const;
};

// The keys of one mapping, checked against the keys allowed there.
class MapView {
 public:
  // `context` names the mapping in messages ("the file", "rename_column");
  // `anchor` is where a missing key is reported.
  MapView(const YAML::Node& map, std::string context, YAML::Mark anchor);

  // Reports keys not in `allowed` (suggesting the closest one) and repeated keys.
  // `what` is how messages call a key ("key", "selector key"); `valid_note`, when
  // not empty, is appended to every unknown-key message.
  void check_keys(std::span<const std::string_view> allowed, Diagnostics& diag,
                  std::string_view what = "key", std::string_view valid_note = "") const;

  [[nodiscard]] std::optional<Field> find(std::string_view name) const;
  [[nodiscard]] const std::vector<Field>& fields() const { return fields_; }
  [[nodiscard]] const std::string& context() const { return context_; }

  // The field, or an error "<context> is missing '<name>'; add '<name>: <hint>'"
  // (unless check_keys already suggested `name` for a misspelt key).
  [[nodiscard]] std::optional<Field> require(std::string_view name, std::string_view hint,
                                             Diagnostics& diag) const;

 private:
  std::vector<Field> fields_;
  std::string context_;
  YAML::Mark anchor_;
  mutable std::vector<std::string> suggested_;  // names offered as "did you mean"
};

// The text of a scalar value. Reports an empty value (`key:` alone, or "") with
// `hint` and a list or mapping where a single value belongs.
[[nodiscard]] std::optional<std::string> read_scalar(const Field& field, std::string_view hint,
                                                     Diagnostics& diag);

// A nested mapping value, or an error saying it should look like `example`.
[[nodiscard]] std::optional<MapView> read_map(const Field& field, std::string_view example,
                                              Diagnostics& diag);

// The byte offset in `text` of a yaml-cpp mark (0-based line and column; a UTF-8
// byte order mark, which yaml-cpp skips, is accounted for), or npos.
[[nodiscard]] std::size_t source_offset(std::string_view text, const YAML::Mark& mark);

// The 0-based mark of a sequence item; an empty item (`-` alone) gets the mark of
// the next token from yaml-cpp, so look back to its dash in the source text.
[[nodiscard]] YAML::Mark item_mark(const YAML::Node& item, std::string_view text);

}  // namespace pgshim::rules
