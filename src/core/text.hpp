#pragma once
// Text from other users (another process's command line) made safe to print: nothing
// in it may move the cursor, fake a line, retitle the terminal or break UTF-8 output.

#include <string>
#include <string_view>
#include <vector>

namespace wg {

// The numbers joined by `separator`: "0, 2, 3".
std::string join_numbers(const std::vector<unsigned>& numbers, std::string_view separator = ", ");

// `text` with every control character and every byte that is not part of valid UTF-8
// written as \xNN; everything else (UTF-8 letters included) kept as it is.
std::string printable(std::string_view text);

}  // namespace wg
