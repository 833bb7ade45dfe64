#pragma once
// A fresh simulated machine and lock directory per test, and helpers to run the
// built with-gpu against them.

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <thread>
#include <nlohmann/json.hpp>

#include "support/handshake.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/text_match.hpp"

namespace wg::test {

using nlohmann::json;

// A command that prints what it was given: "CUDA_VISIBLE_DEVICES|CUDA_DEVICE_ORDER".
inline const std::vector<std::string> kProbe = {"sh", "-c",
                                                "echo \"${CUDA_VISIBLE_DEVICES-unset}|${CUDA_DEVICE_ORDER-unset}\""};

class E2E : public ::testing::Test {
 protected:
  E2E() {
    env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
           {"WITH_GPU_NVML_LIBRARY", NVML_DOUBLE},
           {"NVML_DOUBLE_MACHINE", machine_path},
           {"WITH_GPU_LOCK_DIR", lock_dir},
           {"WITH_GPU_SYSTEM_CONFIG", temp / "no-system-config.toml"}};
  }

  void write_machine(const json& machine) const {
    std::string staging = machine_path + ".new";
    std::ofstream(staging) << machine.dump(2);
    std::rename(staging.c_str(), machine_path.c_str());  // atomic: a poll never reads half a file
  }

  static json example(const std::string& name) {
    std::ifstream in(std::string(MACHINES_DIR) + "/" + name);
    return json::parse(in);
  }

  // A healthy idle GPU; tests change the fields they care about.
  static json gpu(int index, int free_mib = 40000) {
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "GPU-%08x-aaaa-bbbb-cccc-dddddddddddd", 0xc0de0000 + index);
    char bus[32];
    std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", 0x10 + index);
    return {{"name", "NVIDIA A100-SXM4-40GB"}, {"uuid", uuid}, {"pci_bus_id", bus},
            {"memory_total_mib", free_mib + 500}, {"memory_reserved_mib", 500}, {"memory_used_mib", 0},
            {"utilization_percent", 0}, {"temperature_c", 30}, {"power_w", 50.0}, {"power_limit_w", 400.0},
            {"processes", json::array()}};
  }

  static json machine_of(json gpus) { return {{"driver_version", "550.54.14"}, {"gpus", gpus}}; }

  ProcessResult with_gpu(std::vector<std::string> args, const Env& extra = {}) const {
    args.insert(args.begin(), WITH_GPU_BINARY);
    Env merged = env;
    for (const auto& [name, value] : extra) merged[name] = value;
    return run_process(args, merged);
  }

  // with-gpu ARGS -- probe; returns what the probe printed, trimmed.
  std::string probe(std::vector<std::string> args, const Env& extra = {}) const {
    args.push_back("--");
    args.insert(args.end(), kProbe.begin(), kProbe.end());
    auto result = with_gpu(args, extra);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::string out = result.out;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  // Starts with-gpu ARGS in the background; its output goes to NAME.out and NAME.err.
  std::unique_ptr<BackgroundProcess> start(std::vector<std::string> args, const std::string& name) const {
    args.insert(args.begin(), WITH_GPU_BINARY);
    return std::make_unique<BackgroundProcess>(args, env, temp / (name + ".out"), temp / (name + ".err"));
  }

  // The holders of a GPU's claims as --status --json reports them, polled (up to ~10 s)
  // until there are some, and, given `command`, until the first holder runs it (the
  // claim is taken just before with-gpu execs the command).
  json wait_for_claims(int index, const std::string& command = "") const {
    json claims = json::array();
    for (int i = 0; i < 400; ++i) {
      auto status = json::parse(with_gpu({"--status", "--json"}).out);
      claims = status["gpus"][index]["claims"];
      if (!claims.empty() && (command.empty() || claims[0]["command"] == command)) return claims;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return claims;
  }

  // Until a background with-gpu NAME has said it is waiting (up to ~10 s).
  bool waiting(const std::string& name) const {
    for (int i = 0; i < 400; ++i) {
      if (read_file(temp / (name + ".err")).find("with-gpu: waiting") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }

  TempDir temp;
  std::string machine_path = temp / "machine.json";
  std::string lock_dir = temp / "locks";
  Env env;
};

}  // namespace wg::test
