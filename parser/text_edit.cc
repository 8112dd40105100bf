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
  std::uint32_t at = begin;
  for (const TextEdit* e : sorted()) {
    if (straddles(*e, begin, end)) return std::nullopt;
    if (!inside(*e, begin, end)) continue;
    if (e->begin < at) return std::nullopt;  // overlapping edits
    out.append(source.substr(at, e->begin - at));
    out.append(e->text);
    at = e->end;
  }
  out.append(source.substr(at, end - at));
  return out;
}

std::optional<EditedText> EditSet::apply(std::string_view source) const {
  EditedText result;
  std::size_t growth = 0;
  for (const TextEdit& e : edits_) growth += e.text.size();
  result.text.reserve(source.size() + growth);
  result.mappings.reserve(edits_.size());
  std::uint32_t at = 0;
  for (const TextEdit* e : sorted()) {
    if (e->begin < at || e->end > source.size() || e->begin > e->end) return std::nullopt;
    result.text.append(source.substr(at, e->begin - at));
    const auto new_begin = static_cast<std::uint32_t>(result.text.size());
    result.text.append(e->text);
    result.mappings.push_back(
        EditMapping{e->begin, e->end, new_begin, static_cast<std::uint32_t>(result.text.size())});
    at = e->end;
  }
  result.text.append(source.substr(at));
  return result;
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
