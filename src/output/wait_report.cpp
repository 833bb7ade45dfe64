#include "output/wait_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "core/text.hpp"
#include "output/format.hpp"

namespace wg {

std::string format_elapsed(std::chrono::milliseconds elapsed) {
  long long seconds = elapsed.count() / 1000;
  if (seconds < 60) return fmt::format("{}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", seconds / 60, seconds % 60);
  return fmt::format("{}h{:02}m", seconds / 3600, (seconds % 3600) / 60);
}

namespace {

// Outside the allocation, out of this process's reach, or ruled out by MIG (a GPU split
// into instances, an instance where several devices are needed, another profile):
// waiting will not change that.
bool lasting(Filter filter) {
  return filter == Filter::not_allocated || filter == Filter::no_access || ruled_out_by_mig(filter);
}

// "GPU1", compact as the line has always named GPUs; an instance by its device_label.
std::string blocker_label(const Gpu& gpu) {
  return gpu.mig ? device_label(gpu) : fmt::format("GPU{}", gpu.index);
}

}  // namespace

std::string wait_blockers(const Machine& machine, const Decision& decision, const SelectionOptions& options) {
  std::vector<std::string> blockers;
  for (const auto& verdict : decision.verdicts) {
    if (verdict.verdict != Verdict::rejected) continue;
    if (std::any_of(verdict.reasons.begin(), verdict.reasons.end(), [](const Reason& r) { return lasting(r.filter); })) {
      continue;
    }
    if (options.manual && std::find(options.manual->begin(), options.manual->end(), verdict.index) ==
                              options.manual->end()) {
      continue;
    }
    const Gpu& gpu = machine.gpus[verdict.index];
    blockers.push_back(fmt::format("{} {}", blocker_label(gpu), format_reason(gpu, verdict.reasons.front())));
  }
  if (blockers.empty()) return fmt::format("{} eligible", decision.eligible_count);
  return fmt::format("{}", fmt::join(blockers, " · "));
}

std::string queue_standing(const QueuePlace& place) {
  if (place.waiters <= 1 && place.reserved.empty()) return "";
  std::string standing = ", " + ordinal(place.place) + " in line";
  if (!place.reserved.empty()) {
    standing += fmt::format(" (GPU{} {} reserved for you)", place.reserved.size() == 1 ? "" : "s",
                            join_numbers(place.reserved));
  }
  return standing;
}

std::string job_name(const std::vector<std::string>& command) {
  constexpr std::size_t kJobColumns = 32;
  return fit_columns(printable(join_words(command)), kJobColumns);
}


std::string WaitReporter::line(std::chrono::milliseconds elapsed) const {
  std::string text = fmt::format("with-gpu: waiting {}{} for {} GPU{} ({}){}: {}", format_elapsed(elapsed),
                                 time_of_day_.empty() ? "" : " at " + time_of_day_, needed_, needed_ == 1 ? "" : "s",
                                 job_, standing_, blockers_);
  // One column short of the width: a line that fills it would wrap on some terminals.
  return terminal_ == Terminal::tty && columns_ > 1 ? fit_columns(text, columns_ - 1) : text;
}

void WaitReporter::update(std::chrono::milliseconds elapsed, unsigned needed, const std::string& standing,
                          const std::string& blockers, const std::string& time_of_day) {
  bool changed = !reported_ || blockers != blockers_ || needed != needed_ || standing != standing_;
  reported_ = true;
  if (terminal_ != Terminal::tty) time_of_day_ = time_of_day;
  needed_ = needed;
  standing_ = standing;
  blockers_ = blockers;
  if (terminal_ == Terminal::tty) {
    tick(elapsed);
  } else if (changed) {
    err_ << line(elapsed) << "\n" << std::flush;
  }
}

void WaitReporter::tick(std::chrono::milliseconds elapsed) {
  if (terminal_ != Terminal::tty || !reported_) return;
  err_ << "\r\033[K" << line(elapsed) << std::flush;
  line_open_ = true;
}

void WaitReporter::finish() {
  if (line_open_) err_ << "\n" << std::flush;
  line_open_ = false;
}

}  // namespace wg
