#include "cli/phase_trace.hpp"

#include <ostream>

namespace wg {

void PhaseTrace::mark(const char* phase) {
  if (tracing_ == Tracing::off) return;
  auto now = clock_.now();
  phases_ += std::string(phases_.empty() ? "" : ", ") + phase + " " +
             std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(now - phase_start_).count()) + "us";
  phase_start_ = now;
}

void PhaseTrace::print(std::ostream& err) {
  if (tracing_ == Tracing::on && !phases_.empty()) err << "with-gpu: trace: " << phases_ << "\n";
  phases_.clear();
}

}  // namespace wg
