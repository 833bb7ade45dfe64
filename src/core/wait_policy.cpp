#include "core/wait_policy.hpp"

#include <algorithm>
#include <iterator>

namespace wg {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kDeletedClaimPoll{250};
// A GPU released this recently still shows its holder's memory: a waiter's ticket keeps
// it, so that a younger launch does not take it in the moment the readings lag.
constexpr milliseconds kReleaseSettle{1000};
constexpr milliseconds kCheckWhenServable{5};
constexpr milliseconds kCheckWhenBehind{20};
// The freed memory can lag the release: the holder's driver handles close after its lock file.
constexpr milliseconds kSettle[] = {milliseconds(2),   milliseconds(10),  milliseconds(25), milliseconds(50),
                                    milliseconds(100), milliseconds(250), milliseconds(500)};

bool any_reason(const Decision& decision, bool (*matches)(Filter)) {
  for (const auto& verdict : decision.verdicts) {
    for (const auto& reason : verdict.reasons) {
      if (matches(reason.filter)) return true;
    }
  }
  return false;
}

}  // namespace

bool cooling(const Decision& decision) {
  return any_reason(decision, [](Filter filter) { return filter == Filter::cooling || filter == Filter::max_temp; });
}

bool blocked_only_by_claims(const Decision& decision) {
  return !any_reason(decision, [](Filter filter) {
    return filter != Filter::claimed && filter != Filter::shared && filter != Filter::not_allocated &&
           filter != Filter::no_access;
  });
}

milliseconds WaitPolicy::next_delay(const Decision& decision) {
  if (cooling(decision)) return std::min(pace_.poll_interval, std::max(milliseconds(100), pace_.sample_window / 5));
  bool more = settle_step_ == 0 || (settle_step_ > 0 && !blocked_only_by_claims(decision));
  if (more && settle_step_ < int(std::size(kSettle))) return std::min(kSettle[settle_step_++], pace_.poll_interval);
  settle_step_ = -1;
  return pace_.poll_interval;
}

WaitPolicy::TimePoint WaitPolicy::next_attempt(const Decision& decision, TimePoint now, DeletedClaims deleted,
                                               std::optional<TimePoint> deadline) {
  TimePoint next = now + next_delay(decision);
  if (deleted == DeletedClaims::held) next = std::min(next, now + kDeletedClaimPoll);
  if (deadline) next = std::min(next, *deadline);
  return next;
}

void WaitPolicy::track_cooling(const Machine& machine, SelectionOptions& selection, TimePoint now) {
  if (!selection.max_temp_c) return;
  for (const auto& gpu : machine.gpus) {
    if (gpu.temperature_c && *gpu.temperature_c > *selection.max_temp_c) last_hot_[gpu.uuid] = now;
    auto hot = last_hot_.find(gpu.uuid);
    if (hot == last_hot_.end()) continue;
    auto cooled = std::chrono::duration_cast<milliseconds>(now - hot->second);
    if (cooled < pace_.sample_window) selection.cooling_ms[gpu.index] = cooled.count();
  }
}

std::set<unsigned> WaitPolicy::settling(const Decision& decision, TimePoint now) {
  std::set<unsigned> settling;
  for (const auto& verdict : decision.verdicts) {
    if (held_by_claim(verdict)) {
      seen_claimed_.insert(verdict.index);
      released_at_.erase(verdict.index);
    } else if (seen_claimed_.erase(verdict.index)) {
      released_at_[verdict.index] = now;
    }
    auto released = released_at_.find(verdict.index);
    if (released != released_at_.end() && now - released->second < settle_window()) settling.insert(verdict.index);
  }
  return settling;
}

milliseconds WaitPolicy::settle_window() const {
  if (pace_.readings == WaitPace::Readings::instant) return kReleaseSettle;
  return std::max(kReleaseSettle, pace_.sample_window + kReleaseSettle);
}

milliseconds WaitPolicy::check_every(Standing standing) {
  return standing == Standing::servable ? kCheckWhenServable : kCheckWhenBehind;
}

}  // namespace wg
