#include "parser/text_edit.h"

#include <algorithm>

namespace pgshim::parser {
namespace {

bool before(const TextEdit* a, const TextEdit* b) {
  if (a->begin != b->begin) return a->begin < b->begin;
  if (a->end != b->end) return a->end < b->end;  // an insertion goes before a replacement at its offset
  return a->order < b->order;
}

// Whether `e` belongs to the inside of [begin, end) for render(): insertions at
// the borders are the surroundings' (a companion added after a value, say).
bool inside(const TextEdit& e, std::uint32_t begin, std::uint32_t end) {
  if (e.begin < begin || e.end > end) return false;
  if (e.begin == e.end) return e.begin > begin && e.begin < end;
  return true;
}

bool straddles(const TextEdit& e, std::uint32_t begin, std::uint32_t end) {
  const bool overlaps = e.begin < end && e.end > begin;
  return overlaps && !inside(e, begin, end);
}

// A byte that continues an identifier, keyword, number or parameter.
bool word_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '_' || c == '$' ||
         u >= 0x80;
}

// Builds an edited text from source runs and edit texts. The source may put a
// word right after a quoted identifier or a `*` (`UPDATE"t"SET`, `FROM t *JOIN`):
// where an edit's text meets such a word of the source, a space keeps the two
// apart. Two edits that meet are joined as they are.
class Splicer {
 public:
  explicit Splicer(std::string& out) : out_(out), source_end_(out.size()) {}

  void source(std::string_view run) {
    if (run.empty()) return;  // what came last is still what it was
    out_.append(run);
    source_end_ = out_.size();
  }

  // `next`: the source byte that will follow the text, '\0' when an edit or
  // the end follows.
  void edit(std::string_view text, char next) {
    const char first = text.empty() ? next : text.front();
    if (out_.size() == source_end_ && !out_.empty() && word_byte(out_.back()) && word_byte(first)) {
      out_.push_back(' ');
    }
    out_.append(text);
    if (!text.empty() && word_byte(text.back()) && word_byte(next)) out_.push_back(' ');
  }

 private:
  std::string& out_;
  std::size_t source_end_;
};

// The source byte right after `e`, unless another edit starts there.
char next_source_byte(std::string_view source, const std::vector<const TextEdit*>& order, std::size_t i,
                      std::uint32_t end) {
  const TextEdit* e = order[i];
  if (e->end >= end || e->end >= source.size()) return '\0';
  if (i + 1 < order.size() && order[i + 1]->begin == e->end) return '\0';
  return source[e->end];
}

}  // namespace

void EditSet::replace(std::uint32_t begin, std::uint32_t end, std::string text) {
  edits_.push_back(TextEdit{begin, end, std::move(text), next_order_++});
}

void EditSet::replace_absorbing(std::uint32_t begin, std::uint32_t end, std::string text) {
  std::erase_if(edits_, [&](const TextEdit& e) { return inside(e, begin, end); });
  replace(begin, end, std::move(text));
}

std::vector<const TextEdit*> EditSet::sorted() const {
  std::vector<const TextEdit*> order;
  order.reserve(edits_.size());
  for (const TextEdit& e : edits_) order.push_back(&e);
  std::sort(order.begin(), order.end(), before);
  return order;
}

std::optional<std::string> EditSet::render(std::string_view source, std::uint32_t begin,
                                           std::uint32_t end) const {
  std::string out;
  Splicer splicer(out);
  std::uint32_t at = begin;
  std::vector<const TextEdit*> order;
  for (const TextEdit* e : sorted()) {
    if (straddles(*e, begin, end)) return std::nullopt;
    if (inside(*e, begin, end)) order.push_back(e);
  }
  for (std::size_t i = 0; i < order.size(); ++i) {
    const TextEdit* e = order[i];
    if (e->begin < at) return std::nullopt;  // overlapping edits
    splicer.source(source.substr(at, e->begin - at));
    splicer.edit(e->text, next_source_byte(source, order, i, end));
    at = e->end;
  }
  splicer.source(source.substr(at, end - at));
  return out;
}

std::optional<EditedText> EditSet::apply(std::string_view source) const {
  EditedText result;
  std::size_t growth = 0;
  for (const TextEdit& e : edits_) growth += e.text.size();
  result.text.reserve(source.size() + growth);
  result.mappings.reserve(edits_.size());
  Splicer splicer(result.text);
  std::uint32_t at = 0;
  const std::vector<const TextEdit*> order = sorted();
  for (std::size_t i = 0; i < order.size(); ++i) {
    const TextEdit* e = order[i];
    if (e->begin < at || e->end > source.size() || e->begin > e->end) return std::nullopt;
    splicer.source(source.substr(at, e->begin - at));
    const auto new_begin = static_cast<std::uint32_t>(result.text.size());
    splicer.edit(e->text, next_source_byte(source, order, i, static_cast<std::uint32_t>(source.size())));
    result.mappings.push_back(
        EditMapping{e->begin, e->end, new_begin, static_cast<std::uint32_t>(result.text.size())});
    at = e->end;
  }
  result.text.append(source.substr(at));
  return result;
}

EditSet replay(const std::vector<EditMapping>& mappings, std::string_view edited_text) {
  EditSet edits;
  for (const EditMapping& m : mappings) {
    edits.replace(m.old_begin, m.old_end, std::string(edited_text.substr(m.new_begin, m.new_end - m.new_begin)));
  }
  return edits;
}

std::uint32_t map_to_source(const std::vector<EditMapping>& mappings, std::uint32_t edited_offset) {
  std::int64_t delta = 0;  // source offset minus edited offset in the stretch being looked at
  for (const EditMapping& m : mappings) {
    if (edited_offset < m.new_begin) break;
    if (edited_offset < m.new_end) return m.old_begin;
    delta = static_cast<std::int64_t>(m.old_end) - m.new_end;
  }
  return static_cast<std::uint32_t>(static_cast<std::int64_t>(edited_offset) + delta);
}

}  // namespace pgshim::parser
