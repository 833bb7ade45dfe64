// --status: the rows asked for, the table fitted to the terminal and coloured against
// the thresholds, who runs each process, and the JSON readings.

#include <pwd.h>
#include <unistd.h>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

// Under --status, --gpu and --gpu-type pick the rows; flags only a launch can use are
// usage errors instead of doing nothing.
TEST_F(E2E, StatusShowsTheGpusAskedForAndRefusesFlagsItCannotUse) {
  json h100 = gpu(2);
  h100["name"] = "NVIDIA H100 80GB HBM3";
  write_machine(machine_of({gpu(0), gpu(1), h100, gpu(3)}));
  auto indices = [](const ProcessResult& result) {
    std::vector<int> listed;
    json status = json::parse(result.out);
    for (const auto& one : status["gpus"]) listed.push_back(one["index"]);
    return listed;
  };
  EXPECT_EQ(indices(with_gpu({"--status", "--json", "--gpu", "1"})), std::vector<int>{1});
  EXPECT_EQ(indices(with_gpu({"--status", "--json", "--gpu", "3,0"})), (std::vector<int>{0, 3}));
  EXPECT_EQ(indices(with_gpu({"--status", "--json", "--gpu-type", "h100"})), std::vector<int>{2});
  EXPECT_EQ(indices(with_gpu({"--status", "--json"})), (std::vector<int>{0, 1, 2, 3}));
  auto table = with_gpu({"--status", "--gpu", "1"}).out;
  EXPECT_NE(table.find("\n  1  NVIDIA A100"), std::string::npos) << table;
  EXPECT_EQ(table.find("\n  0  NVIDIA A100"), std::string::npos) << table;
  auto waited = with_gpu({"--status", "--wait"});
  EXPECT_EQ(waited.exit_code, 2);
  EXPECT_EQ(waited.err, "with-gpu: error: --wait does not apply to --status, which shows every GPU (--gpu and "
                        "--gpu-type pick rows); to see what a launch would choose, use --dry-run\n");
  auto topology = with_gpu({"--status", "--topology", "ignore"});
  EXPECT_EQ(topology.exit_code, 2);
  EXPECT_EQ(topology.err, "with-gpu: error: --topology ignore chooses GPUs for a launch; with --status, --topology "
                          "alone shows the link matrix\n");
  EXPECT_EQ(with_gpu({"--status", "--min-gpus", "2"}).exit_code, 2);
  EXPECT_EQ(with_gpu({"--status", "--max-temp", "80"}).exit_code, 0);  // thresholds colour the readings
  EXPECT_EQ(with_gpu({"--status", "--sample-window", "1s"}).exit_code, 0);
  auto none = with_gpu({"--status", "--gpu-type", "V100"});
  EXPECT_EQ(none.exit_code, 4);
  EXPECT_EQ(none.err, "with-gpu: error: no GPU here matches --gpu-type V100 (the models: NVIDIA A100-SXM4-40GB, "
                      "NVIDIA H100 80GB HBM3)\n");
  auto missing = with_gpu({"--status", "--gpu", "7"});
  EXPECT_EQ(missing.exit_code, 2);
}

// Averages are rounded to one decimal and instantaneous power to the milliwatt the driver
// reports; memory fields say MiB in their names (schema version 2).
TEST_F(E2E, JsonReadingsAreRoundedToWhatTheDriverMeasures) {
  json busy = gpu(0);
  busy["utilization_percent"] = 97;
  busy["power_w"] = 341.2345678;
  busy["samples"] = {{"utilization_percent", {{100, 97}, {200, 98}, {300, 97}, {400, 97}, {500, 97}, {600, 98},
                                              {700, 97}, {800, 97}, {900, 97}, {1000, 98}, {1100, 97}}},
                     {"power_w", {{100, 340.0}, {200, 341.0}, {300, 341.0}}}};
  write_machine(machine_of({busy}));
  auto status = json::parse(with_gpu({"--status", "--json"}).out);
  EXPECT_EQ(status["schema_version"], 2);
  const auto& one = status["gpus"][0];
  EXPECT_EQ(one["utilization_avg_percent"], 97.3);  // 1070 / 11 = 97.2727...
  EXPECT_EQ(one["power_avg_w"], 340.7);             // 1022 / 3 = 340.666...
  EXPECT_EQ(one["power_w"], 341.234);  // the driver reports 341234 mW
  EXPECT_TRUE(one.contains("memory_total_mib") && one.contains("memory_used_mib") && one.contains("memory_free_mib"));
  EXPECT_FALSE(one.contains("memory_total_mb"));
  auto decision = json::parse(with_gpu({"--dry-run", "--json", "--max-util", "50", "--", "true"}).out);
  EXPECT_EQ(decision["schema_version"], 2);
  EXPECT_EQ(decision["gpus"][0]["reasons"][0]["value"], 97.3) << decision["gpus"][0].dump();
}

// The table fits the terminal (COLUMNS, as a terminal would set it): columns that say
// nothing go first, then the least useful, then long names; piped, nothing is cut.
TEST_F(E2E, StatusFitsTheTerminalWidth) {
  json two_sockets = example("server-2socket-nvlink.json");
  for (std::size_t i = 0; i < two_sockets["gpus"].size(); ++i) two_sockets["gpus"][i]["local_cpus"] = i < 4 ? "0" : "1";
  write_machine(two_sockets);
  auto widest = [](const std::string& text) {
    std::size_t widest = 0, line = 0;
    for (char c : text) {
      if (c == '\n') widest = std::max(widest, line), line = 0;
      else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++line;
    }
    return widest;
  };
  auto piped = with_gpu({"--status"}).out;
  EXPECT_TRUE(contains(piped, "PROCS  NUMA  CPUS  STATE")) << piped;  // two sockets: NUMA says something
  EXPECT_GT(widest(piped), 120u);
  for (std::size_t columns : {200u, 120u, 80u, 40u, 20u}) {
    auto fitted = with_gpu({"--status"}, {{"COLUMNS", std::to_string(columns)}}).out;
    EXPECT_LE(widest(fitted), columns) << fitted;
    EXPECT_TRUE(contains(fitted, "GPU  NAME")) << fitted;
    if (columns >= 80) EXPECT_TRUE(contains(fitted, "STATE\n")) << fitted;
  }
  auto narrow = with_gpu({"--status"}, {{"COLUMNS", "80"}}).out;
  EXPECT_FALSE(contains(narrow, "CPUS")) << narrow;
  EXPECT_TRUE(contains(narrow, "UTIL  STATE\n  0  A100 80GB PCIe")) << narrow;  // names shortened, memory kept
  write_machine(machine_of({gpu(0), gpu(1)}));  // one socket: NUMA and CPUS say nothing
  auto plain = with_gpu({"--status"}).out;
  EXPECT_FALSE(contains(plain, "NUMA")) << plain;
  EXPECT_TRUE(contains(plain, "PROCS  STATE")) << plain;
}

// Readings that fail the thresholds in force are red (a hot GPU even without --max-temp);
// colours only with --color always, or on a terminal without NO_COLOR.
TEST_F(E2E, StatusColoursReadingsAgainstTheThresholdsInForce) {
  json hot = gpu(0, 1000);  // 1000 MiB free: under the default 2 GiB floor
  hot["temperature_c"] = 88;
  hot["utilization_percent"] = 97;
  write_machine(machine_of({hot, gpu(1)}));
  const std::string red = "\033[31m";
  auto coloured = with_gpu({"--status", "--color", "always"}).out;
  EXPECT_TRUE(contains(coloured, red + "88C\033[0m")) << coloured;
  EXPECT_TRUE(contains(coloured, red + "0 / 1500 MiB (0%)\033[0m")) << coloured;
  EXPECT_FALSE(contains(coloured, red + "97%")) << coloured;  // no --max-util in force
  auto limits = with_gpu({"--status", "--color", "always", "--max-util", "90", "--max-temp", "90", "--min-memory", "0"}).out;
  EXPECT_TRUE(contains(limits, red + "97%\033[0m")) << limits;
  EXPECT_FALSE(contains(limits, red + "88C")) << limits;
  EXPECT_FALSE(contains(limits, red + "0 / 1500")) << limits;
  EXPECT_FALSE(contains(with_gpu({"--status", "--color", "never"}).out, "\033["));
  EXPECT_FALSE(contains(with_gpu({"--status"}).out, "\033["));  // piped
  auto wrong = with_gpu({"--status", "--color", "sometimes"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(wrong.err, "with-gpu: error: --color: 'sometimes' is not auto, always or never\n");
}

TEST_F(E2E, StatusSaysWhoRunsEachComputeProcess) {
  auto sleeper = std::make_unique<BackgroundProcess>(std::vector<std::string>{"/bin/sleep", "30"}, env, temp / "s.out",
                                                     temp / "s.err");
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["processes"] = json::array({{{"pid", sleeper->pid()}, {"used_memory_mib", 1234}},
                                                 {{"pid", 4194001}, {"used_memory_mib", nullptr}}});
  machine["gpus"][0]["memory_used_mib"] = 1234;
  write_machine(machine);
  std::string cmdline = "/proc/" + std::to_string(sleeper->pid()) + "/cmdline";
  for (int i = 0; i < 400 && read_file(cmdline).rfind("/bin/sleep", 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // until the child has exec'd sleep
  }
  auto status = with_gpu({"--status"});
  std::string user = getpwuid(getuid()) ? getpwuid(getuid())->pw_name : std::to_string(getuid());
  // One compact line each, the command as its program's name and arguments (gpustat's style).
  std::string expected = "     " + user + "/sleep 30 (1234 MiB, pid " + std::to_string(sleeper->pid()) + ")\n";
  EXPECT_NE(status.out.find(expected), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("     pid 4194001 (n/a)\n"), std::string::npos) << status.out;
}

TEST_F(E2E, StatusJsonHasNullForUnsupportedReadings) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["temperature_c"] = nullptr;
  write_machine(machine);
  auto parsed = json::parse(with_gpu({"--status", "--json"}).out);
  EXPECT_EQ(parsed["schema_version"], 2);
  EXPECT_TRUE(parsed["gpus"][0]["temperature_c"].is_null());
  EXPECT_EQ(parsed["gpus"][0]["utilization_percent"], 0);
  EXPECT_EQ(parsed["gpus"][0]["memory_free_mib"], 40000);
}

}  // namespace
}  // namespace wg::test
