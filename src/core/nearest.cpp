#include "core/nearest.hpp"

#include <algorithm>

namespace wg {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the distance table at a time: row[j] is the distance from a's first i
  // characters to b's first j.
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> nearest(const std::string& word, const std::vector<std::string>& candidates) {
  // A known name that starts the word is the likeliest ("max_temperature" for max_temp).
  std::optional<std::string> prefix;
  for (const auto& candidate : candidates) {
    if (candidate.size() >= 5 && word.rfind(candidate, 0) == 0 && (!prefix || candidate.size() > prefix->size())) {
      prefix = candidate;
    }
  }
  if (prefix) return prefix;
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(3, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    if (std::size_t distance = edit_distance(word, candidate); distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

}  // namespace wg
