#include "rules/rewrite_result.h"

namespace pgshim::rules {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Byte offset of the 1-based character `position` of UTF-8 `text`.
std::uint32_t byte_offset(std::string_view text, int position) {
  std::size_t at = 0;
  for (int chars = 1; chars < position && at < text.size(); ++chars) {
    ++at;
    while (at < text.size() && continuation(text[at])) ++at;
  }
  return static_cast<std::uint32_t>(at);
}

// The 1-based character position of byte `offset` of UTF-8 `text`.
int character_position(std::string_view text, std::uint32_t offset) {
  int chars = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (!continuation(text[i])) ++chars;
  }
  return chars;
}

}  // namespace

int map_error_position(const RewriteResult& result, std::string_view original, int position) {
  if (position <= 0 || result.status != RewriteStatus::kRewritten) return position;
  const std::uint32_t rewritten = byte_offset(result.sql, position);
  return character_position(original, parser::map_to_source(result.mappings, rewritten));
}

}  // namespace pgshim::rules
