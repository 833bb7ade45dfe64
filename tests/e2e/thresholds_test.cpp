// Temperature and power thresholds, and utilization and power judged by the driver's
// sample buffer rather than one instant.

#include <unistd.h>

#include <thread>

#include "support/e2e_fixture.hpp"

namespace wg::test {
namespace {

using namespace std::chrono_literals;

// Samples every 500 ms over the last 10 s, newest first, all `value`.
json steady(double value) {
  json list = json::array();
  for (int i = 0; i < 20; ++i) list.push_back({i * 500, value});
  return list;
}

class Thresholds : public E2E {
 protected:
  Thresholds() { write_machine(example("workstation-4x3090.json")); }
};

TEST_F(Thresholds, TheSeedRoadmapsCombinationWorksAsWritten) {
  // GPU 0 is at 78C, GPU 2 averages 32% and GPU 3 hides usage; GPU 1 is cool and idle.
  EXPECT_EQ(probe({"--min-memory", "8000", "--max-temp", "75", "--max-util", "70"}), "1|PCI_BUS_ID");
  auto result = with_gpu({"--min-memory", "8000", "--max-temp", "75", "--max-util", "70", "--gpu", "0", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "  GPU 0: 3.7 GiB free < 7.8 GiB; utilization 97% > 70% (average); temperature 78C > 75C\n"))
      << result.err;
}

TEST_F(Thresholds, MaxPowerAsAPercentageOfTheLimit) {
  // 50% of 350 W is 175 W: GPU 0 draws 340 W and GPU 3 180 W on average.
  EXPECT_EQ(probe({"--max-power", "50%", "--min-memory", "0", "--min-gpus", "2"}), "1,2|PCI_BUS_ID");
  auto result = with_gpu({"--max-power", "50%", "--min-memory", "0", "--gpu", "3", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "power 180 W > 175 W (average)")) << result.err;
  EXPECT_EQ(probe({"--max-power", "200W", "--min-memory", "0", "--min-gpus", "2"}), "1,2|PCI_BUS_ID");
}

TEST_F(Thresholds, ASpikyGpuWithALowInstantIsJudgedByItsAverage) {
  // GPU 2's notebook reads 4% this instant and 32% over the last 5 s.
  auto result = with_gpu({"--gpu", "2", "--max-util", "10", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err, "  GPU 2: utilization 32% > 10% (average)\n")) << result.err;
  // A shorter window sees only the latest samples (4% and 2%).
  EXPECT_EQ(probe({"--gpu", "2", "--max-util", "10", "--sample-window", "600ms"}), "2|PCI_BUS_ID");
}

TEST_F(E2E, AGpuWithAHighInstantButALowAverageIsTaken) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["utilization_percent"] = 99;
  machine["gpus"][0]["samples"] = {{"utilization_percent", steady(10)}};
  write_machine(machine);
  EXPECT_EQ(probe({"--max-util", "50"}), "0|PCI_BUS_ID");
}

TEST_F(E2E, WithoutSamplesTheInstantaneousReadingIsUsedAndSaidSo) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["utilization_percent"] = 60;
  write_machine(machine);
  auto status = with_gpu({"--status"});
  EXPECT_TRUE(contains(status.out, "util and power: instantaneous")) << status.out;
  EXPECT_TRUE(contains(status.out, "    60%   ")) << status.out;
  // Beside a GPU whose readings are averages, the instantaneous one is marked.
  json mixed = machine_of({gpu(0), gpu(1)});
  mixed["gpus"][0]["utilization_percent"] = 60;
  mixed["gpus"][1]["samples"] = {{"utilization_percent", steady(10)}};
  write_machine(mixed);
  status = with_gpu({"--status"});
  EXPECT_TRUE(contains(status.out, "util and power: 5.0s averages")) << status.out;
  EXPECT_TRUE(contains(status.out, "60%*")) << status.out;
  EXPECT_TRUE(contains(status.out, "* instantaneous: the driver keeps no samples to average for this GPU\n"));
  write_machine(machine);
  auto dry = with_gpu({"--dry-run", "--max-util", "50", "true"});
  EXPECT_EQ(dry.exit_code, 4);
  EXPECT_TRUE(contains(dry.out, "  GPU 0: rejected: utilization 60% > 50% (instantaneous: the driver keeps no samples) "
                                "[util 60% now, 30C, 50 W now]\n"))
      << dry.out;
}

TEST_F(E2E, UnsupportedSensorsFailTheFiltersThatNeedThem) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["errors"] = {{"nvmlDeviceGetTemperature", "NOT_SUPPORTED"}, {"nvmlDeviceGetPowerUsage", "NOT_SUPPORTED"}};
  write_machine(machine);
  EXPECT_EQ(probe({}), "0|PCI_BUS_ID");
  auto result = with_gpu({"--max-temp", "80", "--max-power", "300", "true"});
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_TRUE(contains(result.err,
                       "  GPU 0: temperature not reported by the driver; power draw not reported by the driver\n"))
      << result.err;
}

TEST_F(E2E, BadThresholdValuesAreUsageErrors) {
  write_machine(machine_of({gpu(0)}));
  auto percent = with_gpu({"--max-power", "120%", "true"});
  EXPECT_EQ(percent.exit_code, 2);
  EXPECT_EQ(percent.err, "with-gpu: error: --max-power: '120%' is more than 100% of the power limit\n");
  auto temperature = with_gpu({"--max-temp", "abc", "true"});
  EXPECT_EQ(temperature.exit_code, 2);
  EXPECT_EQ(temperature.err, "with-gpu: error: --max-temp: 'abc' is not a temperature in degrees Celsius (e.g. 80)\n");
}

TEST_F(E2E, AWaiterTakesAHotGpuOnlyOnceItHasStayedCoolForTheWindow) {
  json machine = machine_of({gpu(0)});
  machine["gpus"][0]["temperature_c"] = 86;
  write_machine(machine);
  std::string ran = temp / "ran";
  auto waiter = start({"--wait", "--max-temp", "80", "--sample-window", "3s", "--poll-interval", "100ms", "--", "touch",
                       ran},
                      "waiter");
  ASSERT_TRUE(waiting("waiter"));
  EXPECT_TRUE(contains(read_file(temp / "waiter.err"), "GPU0 temperature 86C > 80C"));
  machine["gpus"][0]["temperature_c"] = 79;
  write_machine(machine);
  eventually([&] { return contains(read_file(temp / "waiter.err"), "cooling"); });
  EXPECT_TRUE(contains(read_file(temp / "waiter.err"), "GPU0 cooling: below --max-temp for ")) << read_file(temp / "waiter.err");
  EXPECT_NE(access(ran.c_str(), F_OK), 0) << "must not start before the GPU stayed cool for 3 s";
  EXPECT_EQ(waiter->wait(), 0);
  EXPECT_EQ(access(ran.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace wg::test
