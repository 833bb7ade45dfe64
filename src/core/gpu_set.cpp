#include "core/gpu_set.hpp"

#include <algorithm>
#include <set>

namespace wg {
namespace {

// PCIe points by path, BRD first; unknown scores 0.
constexpr int kPciePoints[] = {6, 5, 4, 3, 2, 1};

// Pair scores of the pool (required then candidates) and the search over positions in it.
class SetSearch {
 public:
  SetSearch(const Machine& machine, const std::vector<unsigned>& required, const std::vector<unsigned>& candidates,
            std::size_t count, double exact_limit)
      : required_(required.size()), count_(count), exact_limit_(exact_limit) {
    pool_ = required;
    pool_.insert(pool_.end(), candidates.begin(), candidates.end());
    std::size_t n = pool_.size();
    scores_.assign(n * n, 0);
    for (std::size_t a = 0; a < n; ++a) {
      for (std::size_t b = a + 1; b < n; ++b) scores_[a * n + b] = scores_[b * n + a] = pair_score(machine, pool_[a], pool_[b]);
    }
  }

  std::vector<unsigned> run() {
    std::size_t free = count_ - required_;
    std::vector<std::size_t> best = combinations(pool_.size() - required_, free) <= exact_limit_ ? exhaustive()
                                                                                                   : heuristic();
    std::sort(best.begin(), best.end());
    std::vector<unsigned> chosen;
    for (std::size_t position : best) chosen.push_back(pool_[position]);
    return chosen;
  }

 private:
  int score(std::size_t a, std::size_t b) const { return scores_[a * pool_.size() + b]; }

  long total(const std::vector<std::size_t>& set) const {
    long sum = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      for (std::size_t j = i + 1; j < set.size(); ++j) sum += score(set[i], set[j]);
    }
    return sum;
  }

  // Better: a higher score; at equal scores, memory first: the set whose worst-ranked
  // member ranks better (a job is as short of memory as its fullest GPU), and so on.
  static bool better(const std::vector<std::size_t>& a, long score_a, const std::vector<std::size_t>& b, long score_b) {
    if (score_a != score_b) return score_a > score_b;
    auto sa = a, sb = b;
    std::sort(sa.rbegin(), sa.rend());
    std::sort(sb.rbegin(), sb.rend());
    return sa < sb;
  }

  static double combinations(std::size_t n, std::size_t k) {
    double result = 1;
    for (std::size_t i = 0; i < k; ++i) result = result * double(n - i) / double(i + 1);
    return result;
  }

  std::vector<std::size_t> base() const {
    std::vector<std::size_t> set;
    for (std::size_t i = 0; i < required_; ++i) set.push_back(i);
    return set;
  }

  // Every combination.
  std::vector<std::size_t> exhaustive() const {
    std::size_t free = count_ - required_;
    std::vector<std::size_t> picks(free);
    for (std::size_t i = 0; i < free; ++i) picks[i] = required_ + i;
    std::vector<std::size_t> best;
    long best_score = -1;
    for (;;) {
      auto set = base();
      set.insert(set.end(), picks.begin(), picks.end());
      if (long s = total(set); best.empty() || better(set, s, best, best_score)) {
        best = set;
        best_score = s;
      }
      std::size_t i = free;
      while (i > 0 && picks[i - 1] == pool_.size() - free + i - 1) --i;
      if (i == 0) return best;
      ++picks[i - 1];
      for (std::size_t j = i; j < free; ++j) picks[j] = picks[j - 1] + 1;
    }
  }

  // Grows a set from `seed`, each step adding the candidate that adds the most.
  std::vector<std::size_t> greedy(std::size_t seed) const {
    auto set = base();
    std::vector<bool> in(pool_.size(), false);
    for (auto member : set) in[member] = true;
    set.push_back(seed);
    in[seed] = true;
    std::vector<long> gain(pool_.size(), 0);
    for (auto member : set) {
      for (std::size_t c = required_; c < pool_.size(); ++c) gain[c] += score(c, member);
    }
    while (set.size() < count_) {
      std::size_t pick = pool_.size();
      for (std::size_t c = required_; c < pool_.size(); ++c) {
        if (!in[c] && (pick == pool_.size() || gain[c] > gain[pick])) pick = c;
      }
      set.push_back(pick);
      in[pick] = true;
      for (std::size_t c = required_; c < pool_.size(); ++c) gain[c] += score(c, pick);
    }
    return set;
  }

  // Swaps one chosen candidate for one left out while that raises the score; a swap's
  // effect is the newcomer's scores with the others minus the leaver's.
  void improve(std::vector<std::size_t>& set) const {
    std::vector<bool> in(pool_.size(), false);
    for (auto member : set) in[member] = true;
    for (int pass = 0; pass < 64; ++pass) {
      bool changed = false;
      for (std::size_t i = required_; i < set.size() && !changed; ++i) {
        for (std::size_t c = required_; c < pool_.size() && !changed; ++c) {
          if (in[c]) continue;
          long delta = 0;
          for (std::size_t j = 0; j < set.size(); ++j) {
            if (j != i) delta += score(c, set[j]) - score(set[i], set[j]);
          }
          if (delta > 0) {
            in[set[i]] = false;
            in[c] = true;
            set[i] = c;
            changed = true;
          }
        }
      }
      if (!changed) return;
    }
  }

  // Seeds that grow into a set already seen (every member of one NVLink island, say)
  // skip the swap phase: it would end where it ended before.
  std::vector<std::size_t> heuristic() const {
    std::vector<std::size_t> best;
    long best_score = -1;
    std::set<std::vector<std::size_t>> seen;
    for (std::size_t seed = required_; seed < pool_.size(); ++seed) {
      auto set = greedy(seed);
      auto key = set;
      std::sort(key.begin(), key.end());
      if (!seen.insert(key).second) continue;
      improve(set);
      long s = total(set);
      if (best.empty() || better(set, s, best, best_score)) {
        best = set;
        best_score = s;
      }
    }
    return best;
  }

  std::vector<unsigned> pool_;
  std::size_t required_;
  std::size_t count_;
  double exact_limit_;
  std::vector<int> scores_;
};

}  // namespace

int pair_score(const Machine& machine, unsigned a, unsigned b) {
  GpuLink link = link_between(machine, a, b);
  int pcie = link.pcie ? kPciePoints[static_cast<int>(*link.pcie)] : 0;
  const auto& node_a = machine.gpus[a].numa_node;
  const auto& node_b = machine.gpus[b].numa_node;
  int same_node = node_a && node_b && *node_a == *node_b ? 1 : 0;
  return static_cast<int>(link.nvlinks) * 16 + pcie * 2 + same_node;
}

long set_score(const Machine& machine, const std::vector<unsigned>& gpus) {
  long sum = 0;
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    for (std::size_t j = i + 1; j < gpus.size(); ++j) sum += pair_score(machine, gpus[i], gpus[j]);
  }
  return sum;
}

std::vector<unsigned> choose_set(const Machine& machine, const std::vector<unsigned>& required,
                                 const std::vector<unsigned>& candidates, std::size_t count, double exact_limit) {
  if (count <= required.size()) return {required.begin(), required.begin() + static_cast<std::ptrdiff_t>(count)};
  if (count >= required.size() + candidates.size()) {
    std::vector<unsigned> all = required;
    all.insert(all.end(), candidates.begin(), candidates.end());
    return all;
  }
  return SetSearch(machine, required, candidates, count, exact_limit).run();
}

}  // namespace wg
