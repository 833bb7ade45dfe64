#pragma once
// WITH_GPU_TRACE: how long each phase of a run took, printed before exec (or exit) so
// that a slow start points at its phase.

#include <chrono>
#include <iosfwd>
#include <string>

#include "core/clock.hpp"

namespace wg {

enum class Tracing { off, on };

class PhaseTrace {
 public:
  PhaseTrace(Tracing tracing, Clock& clock) : tracing_(tracing), clock_(clock) {}

  // The first phase starts now.
  void start() { phase_start_ = clock_.now(); }

  // Ends `phase` now ("query 120us"); the next one starts.
  void mark(const char* phase);

  // Writes "with-gpu: trace: load 80us, query 120us, ..." to `err` and starts a new list.
  void print(std::ostream& err);

 private:
  Tracing tracing_;
  Clock& clock_;
  std::chrono::steady_clock::time_point phase_start_;
  std::string phases_;
};

}  // namespace wg
