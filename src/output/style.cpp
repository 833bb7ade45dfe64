#include "output/style.hpp"

namespace wg {

std::string Style::paint(std::string_view text, Color color) const {
  if (colors == Colors::off) return std::string(text);
  const char* code = "";
  switch (color) {
    case Color::green: code = "\033[32m"; break;
    case Color::yellow: code = "\033[33m"; break;
    case Color::red: code = "\033[31m"; break;
    case Color::magenta: code = "\033[35m"; break;
    case Color::dim: code = "\033[2m"; break;
    case Color::bold: code = "\033[1m"; break;
  }
  return std::string(code) + std::string(text) + "\033[0m";
}

}  // namespace wg
