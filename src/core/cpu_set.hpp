#pragma once
// Sets of CPU (or NUMA node) numbers, as the kernel writes them: "0-23,48-71".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wg {

class CpuSet {
 public:
  CpuSet() = default;

  // Parses the kernel's list format ("0-3,8,10-11"; "" is the empty set). Empty on
  // junk, reversed ranges or numbers of 65536 and above.
  static std::optional<CpuSet> parse(std::string_view text);
  // From 64-bit words, bit i of word w being CPU 64*w+i (NVML's and the kernel's masks).
  static CpuSet from_words(const std::vector<std::uint64_t>& words);

  void add(unsigned cpu);
  bool contains(unsigned cpu) const;
  bool empty() const;
  std::size_t count() const;
  std::vector<unsigned> members() const;
  const std::vector<std::uint64_t>& words() const { return words_; }

  CpuSet intersection(const CpuSet& other) const;
  CpuSet united(const CpuSet& other) const;
  bool intersects(const CpuSet& other) const { return !intersection(other).empty(); }

  // The kernel's list format, ranges collapsed: "0-3,8".
  std::string to_string() const;

  bool operator==(const CpuSet& other) const;

 private:
  void trim();
  std::vector<std::uint64_t> words_;  // no trailing zero words
};

}  // namespace wg
