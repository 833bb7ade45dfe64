#include "core/units.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

#include "core/text.hpp"

namespace wg {
namespace {

struct Quantity {
  double number = 0;
  std::string unit;  // lowercased
};

// Splits "1.5GiB" into 1.5 and "gib". Only plain decimal digits with one optional point.
std::optional<Quantity> split_quantity(std::string_view text) {
  text = trim(text);
  std::size_t end = 0;
  bool seen_digit = false;
  bool seen_point = false;
  for (; end < text.size(); ++end) {
    char c = text[end];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) return std::nullopt;
  Quantity quantity;
  std::string number(text.substr(0, end));
  // from_chars for double is in libstdc++ 11+; it accepts exactly what we scanned.
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), quantity.number);
  if (ec != std::errc() || ptr != number.data() + number.size()) return std::nullopt;
  quantity.unit = lowercase(trim(text.substr(end)));
  return quantity;
}

std::optional<double> size_multiplier(const std::string& unit) {
  static const std::pair<const char*, double> kUnits[] = {
      {"", double(kMiB)},  // bare number: MiB, as 0.5 read it
      {"b", 1.0},
      {"k", 1024.0}, {"kib", 1024.0}, {"kb", 1e3},
      {"m", double(kMiB)}, {"mib", double(kMiB)}, {"mb", 1e6},
      {"g", double(kGiB)}, {"gib", double(kGiB)}, {"gb", 1e9},
      {"t", 1024.0 * double(kGiB)}, {"tib", 1024.0 * double(kGiB)}, {"tb", 1e12},
  };
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) return factor;
  }
  return std::nullopt;
}

std::optional<double> duration_multiplier_ms(const std::string& unit) {
  if (unit.empty() || unit == "s") return 1000.0;
  if (unit == "ms") return 1.0;
  if (unit == "m") return 60'000.0;
  if (unit == "h") return 3'600'000.0;
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_memory_size(std::string_view text) {
  auto quantity = split_quantity(text);
  if (!quantity) return std::nullopt;
  auto factor = size_multiplier(quantity->unit);
  if (!factor) return std::nullopt;
  double bytes = std::round(quantity->number * *factor);
  if (!std::isfinite(bytes) || bytes > 1.8e19) return std::nullopt;
  return static_cast<std::uint64_t>(bytes);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto quantity = split_quantity(text);
  if (!quantity) return std::nullopt;
  auto factor = duration_multiplier_ms(quantity->unit);
  if (!factor) return std::nullopt;
  double ms = std::round(quantity->number * *factor);
  if (!std::isfinite(ms) || ms > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::optional<double> parse_decimal(std::string_view text) {
  auto quantity = split_quantity(text);
  if (!quantity || !quantity->unit.empty()) return std::nullopt;
  return quantity->number;
}

std::optional<unsigned> parse_unsigned(std::string_view text) {
  text = trim(text);
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace wg
