#pragma once
// What the process finds around it: environment variables, the terminals, the CPUs it may
// run on, the host and the time. Read once at start; tests fill the struct by hand.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/cpu_set.hpp"
#include "core/slurm.hpp"

namespace wg {

// What the process found around it, read once at start.
struct Environment {
  std::optional<std::string> lock_dir;            // WITH_GPU_LOCK_DIR
  std::optional<std::string> config;              // WITH_GPU_CONFIG
  std::optional<std::string> profile;             // WITH_GPU_PROFILE
  std::optional<std::string> xdg_config_home;     // XDG_CONFIG_HOME
  std::optional<std::string> home;                // HOME
  std::optional<std::string> system_config;       // WITH_GPU_SYSTEM_CONFIG (packaging, tests)
  std::optional<std::string> nvml_library;        // WITH_GPU_NVML_LIBRARY
  std::optional<std::string> cuda_visible_devices;
  std::optional<std::string> cuda_device_order;
  std::optional<std::string> inherited_claims;    // WITH_GPU_CLAIMS: descriptors holding our claims
  SlurmVariables slurm;                           // SLURM_JOB_ID, SLURM_STEP_ID, ...
  std::string default_lock_dir = "/tmp/with-gpu"; // /run/with-gpu when root has hardened it
  bool no_color = false;                          // NO_COLOR set
  bool trace = false;                             // WITH_GPU_TRACE set (and not 0): phase timings
  bool stdout_tty = false;
  bool stderr_tty = false;
  std::size_t stderr_columns = 0;                 // COLUMNS, else the terminal's width; 0 unknown
  std::size_t stdout_columns = 0;                 // the same for stdout: 0 when piped without COLUMNS
  std::optional<CpuSet> allowed_cpus;            // sched_getaffinity
  std::optional<CpuSet> online_cpus;             // /sys/devices/system/cpu/online
  std::string user;  // the real user's name for the [policy] limit; empty: looked up when needed
  std::string hostname;
  std::string timestamp;                          // ISO 8601 UTC, for JSON
  std::int64_t now_ns = 0;                        // the wall clock at start: a ticket's arrival
};

// Reads the real environment of this process.
Environment read_environment();

// A wall-clock reading as "14:03:27" in local time, for waiting lines in logs and the
// status header.
std::string time_of_day(std::int64_t wall_ns);

}  // namespace wg
