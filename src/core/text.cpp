#include "core/text.hpp"

#include <cctype>
#include <cstdio>

namespace wg {
namespace {

// The length of the valid UTF-8 sequence starting at `i`, or 0. Overlong forms,
// surrogates and code points above U+10FFFF are not valid.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F) || (lead == 0xF0 && second < 0x90) ||
      (lead == 0xF4 && second > 0x8F)) {
    return 0;
  }
  if (lead == 0xC2 && second < 0xA0) return 0;  // C1 controls (U+0080-U+009F): escapes on some terminals
  return length;
}

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

}  // namespace

std::string_view trim(std::string_view text, std::string_view blanks) {
  auto first = text.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != lower(prefix[i])) return false;
  }
  return true;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string join_numbers(const std::vector<unsigned>& numbers, std::string_view separator) {
  std::vector<std::string> parts;
  for (unsigned number : numbers) parts.push_back(std::to_string(number));
  return join(parts, separator);
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (std::size_t length = c >= 0x80 ? utf8_length(text, i) : 0; length > 0) {
      out.append(text.substr(i, length));
      i += length;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
      ++i;
    }
  }
  return out;
}

std::string command_as_script(const std::string& command) {
  auto space = command.find(' ');
  std::string program = command.substr(0, space);
  auto slash = program.rfind('/');
  if (slash != std::string::npos && slash + 1 < program.size()) program = program.substr(slash + 1);
  return space == std::string::npos ? program : program + command.substr(space);
}

namespace {

// The length of the escape sequence starting at `at` ("\033[...m" and the like), 0 if none.
std::size_t escape_length(std::string_view text, std::size_t at) {
  if (text[at] != '\033' || at + 1 >= text.size() || text[at + 1] != '[') return 0;
  std::size_t end = at + 2;
  while (end < text.size() && (static_cast<unsigned char>(text[end]) < 0x40 || text[end] > 0x7E)) ++end;
  return end < text.size() ? end + 1 - at : 0;
}

bool continues_character(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

}  // namespace

std::size_t display_columns(std::string_view text) {
  std::size_t columns = 0;
  for (std::size_t at = 0; at < text.size(); ++at) {
    if (std::size_t skip = escape_length(text, at)) {
      at += skip - 1;
      continue;
    }
    if (!continues_character(text[at])) ++columns;
  }
  return columns;
}

std::string fit_columns(const std::string& text, std::size_t columns) {
  if (columns == 0 || display_columns(text) <= columns) return text;
  std::size_t seen = 0;
  bool coloured = false;
  for (std::size_t at = 0; at < text.size(); ++at) {
    if (std::size_t skip = escape_length(text, at)) {
      coloured = true;
      at += skip - 1;
      continue;
    }
    if (continues_character(text[at])) continue;
    if (++seen == columns) return text.substr(0, at) + "…" + (coloured ? "\033[0m" : "");
  }
  return text;
}

std::string join_words(const std::vector<std::string>& words) { return join(words, " "); }

}  // namespace wg
