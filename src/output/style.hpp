#pragma once
// Terminal colors, used only when the CLI says the stream is a TTY and NO_COLOR is unset.

#include <string>
#include <string_view>

namespace wg {

enum class Color { green, yellow, red, magenta, dim, bold };
enum class Colors { off, on };

struct Style {
  Colors colors = Colors::off;
  // `text` wrapped in the color's escape codes when colors are on, else unchanged.
  std::string paint(std::string_view text, Color color) const;
};

}  // namespace wg
