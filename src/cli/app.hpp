#pragma once
// The top-level flow: options -> query GPUs -> filter and rank -> claim -> exec.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/environment.hpp"
#include "core/change_watch.hpp"
#include "core/claims.hpp"
#include "core/cpu_set.hpp"
#include "core/clock.hpp"
#include "core/gpu_source.hpp"
#include "core/launcher.hpp"
#include "core/live_screen.hpp"
#include "core/queue.hpp"

namespace wg {

// The side effects the flow needs, real in the product and fake in tests.
struct Services {
  // Opens the driver library; utilization and power are averaged over `sample_window`.
  std::function<Result<std::unique_ptr<GpuSource>>(const std::string& library, std::chrono::milliseconds sample_window)>
      open_gpus;
  std::function<std::unique_ptr<ClaimStore>(const std::string& lock_dir)> open_claims;
  std::function<std::unique_ptr<ChangeWatch>(const std::string& lock_dir)> open_watch;
  Clock* clock = nullptr;
  Launcher* launcher = nullptr;
  // Fills in who runs each compute process (for --status); may do nothing.
  std::function<void(Machine&)> describe_processes;
  // The Slurm job and step of a claim holder, "14.0", from its environment; may answer nothing.
  std::function<std::optional<std::string>(int pid)> slurm_step_of;
  // Fills NUMA nodes and local CPUs the driver did not report (sysfs); may do nothing.
  std::function<void(Machine&)> fill_locality;
  // --bind: pins this process (and so the command) to CPUs; prefers memory on NUMA
  // nodes, returning the nodes preferred.
  std::function<Result<Ok>(const CpuSet&)> pin_cpus;
  std::function<Result<std::vector<int>>(const std::vector<int>&)> prefer_memory;
  // Ends the process at once with `status`, without exit-time destructors: called once
  // the outcome is reported when a driver call was abandoned (timeout, signal) and still
  // runs on another thread, which unloading the driver would wait for or pull the code
  // from under. Empty (tests): the flow returns as usual.
  std::function<void(int status)> exit_now;
  // --init-lock-dir: makes the hardened directory with a lock file for each UUID; returns
  // a report for the user.
  std::function<Result<std::string>(const std::string& lock_dir, const std::vector<std::string>& uuids)> init_lock_dir;
  // Marks the GPUs whose device node refuses this process (a device cgroup: another job's
  // GPUs), which CUDA does not count; may do nothing.
  std::function<void(Machine&)> check_device_access;
  // --install-kernel: writes a Jupyter kernelspec NAME whose kernel starts through with-gpu
  // with `flags`; returns a report for the user.
  std::function<Result<std::string>(const std::string& name, const std::vector<std::string>& flags)> install_kernel;
  // --status --watch: the screen frames are drawn on, keys read from.
  std::function<std::unique_ptr<LiveScreen>(std::ostream& out)> open_screen;
  // The waiting line in a lock directory; empty (tests of the flow): no line is kept.
  std::function<std::unique_ptr<WaitQueue>(const std::string& lock_dir)> open_queue;
};

// Runs with-gpu and returns its exit status (when the command is launched, this
// returns only if exec failed).
int run_app(const std::vector<std::string>& args, const Environment& env, Services& services, std::ostream& out,
            std::ostream& err);

// The entry point main() calls: real environment, real services.
int run(int argc, char** argv);

}  // namespace wg
