#include "rules/yaml_reader.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <sstream>

#include "rules/suggest.h"

namespace pgshim::rules {
namespace {

std::string_view describe_type(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  return "a single value";
}

YAML::Mark mark_at(std::string_view text, std::size_t offset) {
  YAML::Mark mark;
  const std::size_t line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  const std::size_t begin = line_start == std::string_view::npos ? 0 : line_start + 1;
  mark.line = 0;
  for (std::size_t i = 0; i < begin; ++i) mark.line += text[i] == '\n' ? 1 : 0;
  const std::size_t bom = begin == 0 && text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  mark.column = static_cast<int>(offset - begin - bom);
  mark.pos = static_cast<int>(offset);
  return mark;
}

// Records where documents start, and nothing else.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

}  // namespace

YamlStream parse_yaml(std::string_view text) {
  const std::string copy(text);
  YamlStream stream;
  {
    // Two documents at most: enough to tell one from several, and to see the
    // parser stuck on a token it cannot consume (a second start at the same place).
    std::istringstream in(copy);
    YAML::Parser parser(in);
    DocumentStarts handler;
    while (handler.starts.size() < 2 && parser.HandleNextDocument(handler)) {
    }
    if (handler.starts.size() == 2) {
      const YAML::Mark& second = handler.starts[1];
      if (second.pos == handler.starts[0].pos) {
        const std::size_t at = source_offset(text, second);
        const std::string token = at < text.size() ? std::string(1, text[at]) : "?";
        throw YAML::ParserException(second, "unexpected '" + token + "'");
      }
      stream.second_document = second;
    }
  }
  stream.first = YAML::Load(copy);  // reads the first document only
  return stream;
}

SourcePos Diagnostics::pos(const YAML::Mark& mark) const {
  if (mark.is_null()) return SourcePos{file_, 0, 0};
  return SourcePos{file_, mark.line + 1, mark.column + 1};
}

void Diagnostics::report(const YAML::Mark& mark, std::string message) {
  report(pos(mark), std::move(message));
}

void Diagnostics::report(const SourcePos& where, std::string message) {
  sink_.push_back(LoadError{file_, where.line, where.column, std::move(message)});
}

YAML::Mark Field::value_mark() const { return value.IsNull() ? key.Mark() : value.Mark(); }

MapView::MapView(const YAML::Node& map, std::string context, YAML::Mark anchor)
    : context_(std::move(context)), anchor_(anchor) {
  for (const auto& entry : map) {
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    fields_.push_back(Field{name, entry.first, entry.second});
  }
}

void MapView::check_keys(std::span<const std::string_view> allowed, Diagnostics& diag,
                         std::string_view what, std::string_view valid_note) const {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    const Field& field = fields_[i];
    bool known = false;
    for (const std::string_view name : allowed) known = known || name == field.name;
    if (!known) {
      std::string message = "unknown " + std::string(what) + " '" + field.name + "'; ";
      if (const auto best = closest_match(field.name, allowed)) {
        message += "did you mean '" + std::string(*best) + "'?";
        suggested_.emplace_back(*best);
        if (!valid_note.empty()) message += " (" + std::string(valid_note) + ")";
      } else {
        message += valid_note.empty() ? "valid keys here are " + join_choices(allowed)
                                      : std::string(valid_note);
      }
      diag.report(field.key.Mark(), std::move(message));
      continue;
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (fields_[j].name == field.name) {
        diag.report(field.key.Mark(), "'" + field.name + "' is given twice in " + context_ +
                                          " (first at line " +
                                          std::to_string(fields_[j].key.Mark().line + 1) +
                                          "); keep only one");
        break;
      }
    }
  }
}

std::optional<Field> MapView::find(std::string_view name) const {
  for (const Field& field : fields_) {
    if (field.name == name) return field;
  }
  return std::nullopt;
}

std::optional<Field> MapView::require(std::string_view name, std::string_view hint,
                                      Diagnostics& diag) const {
  std::optional<Field> field = find(name);
  const bool suggested =
      std::find(suggested_.begin(), suggested_.end(), name) != suggested_.end();
  if (!field && !suggested) {
    diag.report(anchor_, context_ + " is missing '" + std::string(name) + "'; add '" +
                             std::string(name) + ": " + std::string(hint) + "'");
  }
  return field;
}

std::optional<std::string> read_scalar(const Field& field, std::string_view hint,
                                       Diagnostics& diag) {
  if (field.value.IsNull() || (field.value.IsScalar() && field.value.Scalar().empty())) {
    diag.report(field.value_mark(), "'" + field.name + "' is empty; write '" + field.name + ": " +
                                        std::string(hint) + "'");
    return std::nullopt;
  }
  if (!field.value.IsScalar()) {
    diag.report(field.value_mark(), "'" + field.name + "' must be a single value, not " +
                                        std::string(describe_type(field.value)) + "; write '" +
                                        field.name + ": " + std::string(hint) + "'");
    return std::nullopt;
  }
  return field.value.Scalar();
}

std::optional<MapView> read_map(const Field& field, std::string_view example,
                                Diagnostics& diag) {
  if (!field.value.IsMap()) {
    const std::string_view found = field.value.IsNull() ? "empty" : describe_type(field.value);
    diag.report(field.value_mark(), "'" + field.name + "' must be a mapping like " +
                                        std::string(example) + ", not " + std::string(found) +
                                        "; write it in that form");
    return std::nullopt;
  }
  return MapView(field.value, "'" + field.name + "'", field.key.Mark());
}

std::size_t source_offset(std::string_view text, const YAML::Mark& mark) {
  if (mark.is_null()) return std::string_view::npos;
  std::size_t offset = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  for (int line = 0; line < mark.line; ++line) {
    offset = text.find('\n', offset);
    if (offset == std::string_view::npos) return offset;
    ++offset;
  }
  offset += static_cast<std::size_t>(mark.column);
  return offset <= text.size() ? offset : std::string_view::npos;
}

YAML::Mark item_mark(const YAML::Node& item, std::string_view text) {
  if (!item.IsNull()) return item.Mark();
  std::size_t offset = source_offset(text, item.Mark());
  if (offset == std::string_view::npos) return item.Mark();
  while (offset > 0) {
    const char c = text[offset - 1];
    if (c == '-') return mark_at(text, offset - 1);
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    --offset;
  }
  return item.Mark();
}

}  // namespace pgshim::rules
