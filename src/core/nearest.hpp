#pragma once
// "Did you mean ...?": the known name closest to a mistyped one, by edit distance.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wg {

// The Levenshtein distance between `a` and `b`: the fewest single-character insertions,
// deletions and replacements that turn one into the other.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest of `candidates` to `word` when it is near enough to be a likely typo: the
// longest candidate of 5 or more characters that starts `word` ("max_temp" for
// "max_temperature"), else the candidate fewest edits away when that is at most
// max(3, length of `word` / 3), ties going to the earlier one. Nothing otherwise.
std::optional<std::string> nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace wg
