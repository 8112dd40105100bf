// Splicing edits into SQL text, so that everything outside the edited spans
// (comments, formatting, case) is kept byte for byte. Edits are located by the
// raw tree's `location` fields and the lexer's token ends, applied back to front
// in effect, and refused when they overlap (sqlc's Mutate does the same).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgshim::parser {

// One replacement of the bytes [begin, end) by `text`; begin == end inserts.
struct TextEdit {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string text;
  std::uint32_t order = 0;  // among insertions at one offset, the first added comes first
};

// Where an edit landed: the bytes [old_begin, old_end) of the source became
// [new_begin, new_end) of the result. Used to map error positions back.
struct EditMapping {
  std::uint32_t old_begin = 0;
  std::uint32_t old_end = 0;
  std::uint32_t new_begin = 0;
  std::uint32_t new_end = 0;
};

struct EditedText {
  std::string text;
  std::vector<EditMapping> mappings;  // in order
};

class EditSet {
 public:
  void replace(std::uint32_t begin, std::uint32_t end, std::string text);
  void insert(std::uint32_t at, std::string text) { replace(at, at, std::move(text)); }

  // Replaces [begin, end) and drops the edits strictly inside it: the caller
  // rendered `text` from them (see render()).
  void replace_absorbing(std::uint32_t begin, std::uint32_t end, std::string text);

  // The source bytes [begin, end) with the edits inside them applied, e.g. to
  // copy an already rewritten value into a second assignment. Insertions at the
  // very borders belong to the surroundings and are left out. nullopt when an
  // edit straddles a border.
  [[nodiscard]] std::optional<std::string> render(std::string_view source, std::uint32_t begin,
                                                  std::uint32_t end) const;

  [[nodiscard]] bool empty() const { return edits_.empty(); }
  [[nodiscard]] std::size_t size() const { return edits_.size(); }

  // The whole text with every edit applied; nullopt when two edits overlap or
  // one lies outside the source.
  [[nodiscard]] std::optional<EditedText> apply(std::string_view source) const;

 private:
  [[nodiscard]] std::vector<const TextEdit*> sorted() const;

  std::vector<TextEdit> edits_;
  std::uint32_t next_order_ = 0;
};

// The edits that turned a source into `edited_text`, recovered from the
// mappings apply() returned with it, so that more edits can be added and the
// source edited again with mappings that cover them all.
[[nodiscard]] EditSet replay(const std::vector<EditMapping>& mappings, std::string_view edited_text);

// Maps a byte offset of an edited text back to the source: offsets inside an
// edit's new text map to the start of the bytes it replaced.
[[nodiscard]] std::uint32_t map_to_source(const std::vector<EditMapping>& mappings,
                                          std::uint32_t edited_offset);

}  // namespace pgshim::parser
