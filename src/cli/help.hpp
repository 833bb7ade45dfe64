#pragma once
// --help and the man page, both written from the flag registry (cli/flags.hpp).

#include <string>

namespace wg {

// The --help text: usage, the flags by group with their defaults, environment, exit status.
std::string help_text();

// with-gpu.1 in roff (man(7)): synopsis, description, options grouped as in --help,
// environment, files, exit status, examples.
std::string man_page();

}  // namespace wg
