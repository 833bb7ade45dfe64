#pragma once
// Parsing of user-given quantities: memory sizes and durations.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wg {

constexpr std::uint64_t kMiB = 1024ull * 1024ull;
constexpr std::uint64_t kGiB = 1024ull * kMiB;

// Parses a memory size into bytes. A bare number is MiB (0.5 compatibility);
// K/M/G/T and KiB/MiB/GiB/TiB are binary, KB/MB/GB/TB are decimal (SI), as nvisel
// reads them; case-insensitive; decimals allowed ("1.5GiB"). Empty on bad input.
std::optional<std::uint64_t> parse_memory_size(std::string_view text);

// Parses a duration. A bare number is seconds; suffixes ms, s, m, h; decimals allowed
// ("1.5s"). Empty on bad input or a negative value.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a non-negative decimal number ("250", "72.5"). Empty on bad input.
std::optional<double> parse_decimal(std::string_view text);

// Parses a whole non-negative decimal number that fits in 32 bits. Empty on bad input.
std::optional<unsigned> parse_unsigned(std::string_view text);

}  // namespace wg
