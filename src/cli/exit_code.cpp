#include "cli/exit_code.hpp"

#include <ostream>

namespace wg {

ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return ExitCode::usage;
    case ErrorKind::nvml_unavailable: return ExitCode::nvml_unavailable;
    case ErrorKind::no_suitable_gpu: return ExitCode::no_suitable_gpu;
    case ErrorKind::timed_out: return ExitCode::timed_out;
    case ErrorKind::interrupted: return ExitCode::interrupted;
    case ErrorKind::terminated: return ExitCode::terminated;
    case ErrorKind::lock_dir: return ExitCode::lock_dir;
    case ErrorKind::command_not_found: return ExitCode::not_found;
    case ErrorKind::command_not_executable: return ExitCode::not_executable;
    case ErrorKind::internal: return ExitCode::internal;
  }
  return ExitCode::internal;
}

int report(const Error& error, std::ostream& err) {
  err << "with-gpu: error: " << error.message << "\n" << error.details;
  err.flush();
  return static_cast<int>(exit_code_for(error.kind));
}

}  // namespace wg
