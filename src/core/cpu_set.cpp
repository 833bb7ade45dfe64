#include "core/cpu_set.hpp"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>
#include <vector>

#include "core/text.hpp"
#include "core/units.hpp"

namespace wg {
namespace {

constexpr unsigned kMaxCpu = 65535;  // far above any machine; bounds the memory a bad list costs

std::optional<unsigned> number(std::string_view text) {
  auto value = parse_unsigned(text);
  if (!value || *value > kMaxCpu) return std::nullopt;
  return value;
}

}  // namespace

std::optional<CpuSet> CpuSet::parse(std::string_view text) {
  text = wg::trim(text);  // sysfs ends its lists with a newline
  CpuSet set;
  if (text.empty()) return set;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, end - start);
    std::size_t dash = item.find('-');
    auto first = number(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : number(item.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    for (unsigned cpu = *first; cpu <= *last; ++cpu) set.add(cpu);
    start = end + 1;
  }
  return set;
}

CpuSet CpuSet::from_words(const std::vector<std::uint64_t>& words) {
  CpuSet set;
  set.words_ = words;
  set.trim();
  return set;
}

void CpuSet::add(unsigned cpu) {
  if (words_.size() <= cpu / 64) words_.resize(cpu / 64 + 1, 0);
  words_[cpu / 64] |= std::uint64_t{1} << (cpu % 64);
}

bool CpuSet::contains(unsigned cpu) const {
  return cpu / 64 < words_.size() && (words_[cpu / 64] >> (cpu % 64) & 1u);
}

bool CpuSet::empty() const { return words_.empty(); }

std::size_t CpuSet::count() const {
  std::size_t total = 0;
  for (auto word : words_) total += static_cast<std::size_t>(std::popcount(word));
  return total;
}

std::vector<unsigned> CpuSet::members() const {
  std::vector<unsigned> cpus;
  for (std::size_t w = 0; w < words_.size(); ++w) {
    for (unsigned bit = 0; bit < 64; ++bit) {
      if (words_[w] >> bit & 1u) cpus.push_back(static_cast<unsigned>(w * 64 + bit));
    }
  }
  return cpus;
}

CpuSet CpuSet::intersection(const CpuSet& other) const {
  CpuSet result;
  result.words_.resize(std::min(words_.size(), other.words_.size()));
  for (std::size_t w = 0; w < result.words_.size(); ++w) result.words_[w] = words_[w] & other.words_[w];
  result.trim();
  return result;
}

CpuSet CpuSet::united(const CpuSet& other) const {
  CpuSet result = words_.size() >= other.words_.size() ? *this : other;
  const CpuSet& smaller = words_.size() >= other.words_.size() ? other : *this;
  for (std::size_t w = 0; w < smaller.words_.size(); ++w) result.words_[w] |= smaller.words_[w];
  return result;
}

std::string CpuSet::to_string() const {
  std::vector<std::string> ranges;
  auto cpus = members();
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    std::string range = std::to_string(cpus[i]);
    if (j > i) range += '-' + std::to_string(cpus[j]);
    ranges.push_back(std::move(range));
    i = j + 1;
  }
  return join(ranges, ",");
}

bool CpuSet::operator==(const CpuSet& other) const { return words_ == other.words_; }

void CpuSet::trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

}  // namespace wg
