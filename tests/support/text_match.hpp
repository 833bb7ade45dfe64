#pragma once
// Matching what with-gpu wrote: fixed words exactly, figures that depend on timing by pattern.

#include <regex>
#include <string>

namespace wg::test {

// A duration as with-gpu writes one: whole seconds, or tenths ("0.3s", "12s").
inline const std::string kSeconds = R"([0-9]+(\.[0-9])?s)";

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `literal` as a regular expression that matches exactly it.
inline std::string escaped(const std::string& literal) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(literal, special, R"(\$&)");
}

// True when some part of `text` matches `pattern` (ECMAScript syntax).
inline bool contains_match(const std::string& text, const std::string& pattern) {
  return std::regex_search(text, std::regex(pattern));
}

// with-gpu's timeout error, its elapsed time by pattern and the rest word for word:
// "with-gpu: error: timed out after 0.3s waiting: <rest>".
inline std::string timed_out_pattern(const std::string& rest) {
  return escaped("with-gpu: error: timed out after ") + kSeconds + escaped(" waiting: " + rest);
}

}  // namespace wg::test
