#pragma once
// Generic text helpers that know nothing of GPUs: trimming, case, joining, terminal
// columns; and text from other users (another process's command line) made safe to
// print: nothing in it may move the cursor, fake a line, retitle the terminal or break
// UTF-8 output.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wg {

// `text` without the leading and trailing characters that are in `blanks` (by default
// the ASCII whitespace: space, tab, newline, vertical tab, form feed, carriage return).
std::string_view trim(std::string_view text, std::string_view blanks = " \t\n\v\f\r");

// `text` with ASCII letters in lower case; other bytes (UTF-8 included) as they are.
std::string lowercase(std::string_view text);

// True when `text` starts with `prefix`, ASCII letters compared without case.
bool starts_with_nocase(std::string_view text, std::string_view prefix);

// The parts with `separator` between them: join({"a", "b"}, ", ") is "a, b".
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// Words joined by single spaces, as a command line is shown: "python train.py --lr 3".
std::string join_words(const std::vector<std::string>& words);

// The numbers joined by `separator`: "0, 2, 3".
std::string join_numbers(const std::vector<unsigned>& numbers, std::string_view separator = ", ");

// The terminal columns `text` takes: UTF-8 characters, colour escapes ("\033[31m") not
// counted.
std::size_t display_columns(std::string_view text);

// `text` cut to `columns` terminal columns, ending in "…" when cut (and a colour reset
// when it held a colour escape); as it is when `columns` is 0.
std::string fit_columns(const std::string& text, std::size_t columns);

// A command line as people name it: the program's file name, then its arguments
// ("python3.11 train.py --lr 3", not "/root/.pyenv/versions/3.11.7/bin/python3.11 ...").
std::string command_as_script(const std::string& command);

// `text` with every control character and every byte that is not part of valid UTF-8
// written as \xNN; everything else (UTF-8 letters included) kept as it is.
std::string printable(std::string_view text);

}  // namespace wg
