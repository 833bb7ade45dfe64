#include "cli/environment.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>

#include "os/cpu_affinity.hpp"
#include "os/lock_dir.hpp"

namespace wg {
namespace {

std::optional<std::string> getenv_opt(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::optional<std::string>(value) : std::nullopt;
}

// COLUMNS when set to a number (what the shell says), else the width of the terminal on
// `fd`; 0 when neither says (piped).
std::size_t terminal_columns(int fd) {
  auto columns = getenv_opt("COLUMNS");
  if (columns && !columns->empty() && columns->size() < 6 &&
      columns->find_first_not_of("0123456789") == std::string::npos && std::stoul(*columns) > 0) {
    return std::stoul(*columns);
  }
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) == 0) return size.ws_col;
  return 0;
}

}  // namespace

Environment read_environment() {
  Environment env;
  env.lock_dir = getenv_opt("WITH_GPU_LOCK_DIR");
  env.config = getenv_opt("WITH_GPU_CONFIG");
  env.profile = getenv_opt("WITH_GPU_PROFILE");
  env.xdg_config_home = getenv_opt("XDG_CONFIG_HOME");
  env.home = getenv_opt("HOME");
  env.system_config = getenv_opt("WITH_GPU_SYSTEM_CONFIG");
  env.nvml_library = getenv_opt("WITH_GPU_NVML_LIBRARY");
  env.cuda_visible_devices = getenv_opt("CUDA_VISIBLE_DEVICES");
  env.cuda_device_order = getenv_opt("CUDA_DEVICE_ORDER");
  env.inherited_claims = getenv_opt(kClaimsVariable);
  env.slurm = {getenv_opt("SLURM_JOB_ID"), getenv_opt("SLURM_STEP_ID"), getenv_opt("SLURM_JOB_GPUS"),
               getenv_opt("SLURM_STEP_GPUS"), getenv_opt("SLURM_GPUS_ON_NODE")};
  env.default_lock_dir = default_lock_dir();
  env.no_color = getenv_opt("NO_COLOR").has_value();
  env.trace = getenv_opt("WITH_GPU_TRACE").value_or("0") != "0";
  env.allowed_cpus = allowed_cpus();
  env.online_cpus = online_cpus();
  env.stdout_tty = isatty(STDOUT_FILENO) == 1;
  // A waiter started in the background (`&`) shares the terminal with others: rewriting
  // one line in place would overwrite theirs, so it writes a line per change instead.
  env.stderr_tty = isatty(STDERR_FILENO) == 1 && tcgetpgrp(STDERR_FILENO) == getpgrp();
  env.stderr_columns = terminal_columns(STDERR_FILENO);
  env.stdout_columns = terminal_columns(STDOUT_FILENO);
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) env.hostname = host;
  std::time_t now = std::time(nullptr);
  char stamp[32] = {};
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  env.timestamp = stamp;
  env.now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
  return env;
}

std::string time_of_day(std::int64_t wall_ns) {
  std::time_t seconds = static_cast<std::time_t>(wall_ns / 1'000'000'000);
  std::tm parts{};
  char text[16] = {};
  if (localtime_r(&seconds, &parts)) std::strftime(text, sizeof text, "%H:%M:%S", &parts);
  return text;
}

}  // namespace wg
