// "Did you mean ...?" for rule-file keys and values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pgshim::rules {

// Edit distance counting a swap of two adjacent characters as one edit
// (optimal string alignment), case-insensitive: `chnages` is 1 from `changes`.
[[nodiscard]] std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a likely typo
// (at most a third of its length, and at least one edit allowed).
[[nodiscard]] std::optional<std::string_view> closest_match(
    std::string_view word, std::span<const std::string_view> candidates);

// "a, b or c" (with `last` = "or") for messages that list the valid choices.
[[nodiscard]] std::string join_choices(std::span<const std::string_view> choices,
                                       std::string_view last = "or");

}  // namespace pgshim::rules
