#include "output/status_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/machine_builder.hpp"
#include "support/mig_machine.hpp"

namespace wg {
namespace {

using nlohmann::json;

json status_of(const Machine& machine, std::optional<std::vector<unsigned>> rows = std::nullopt) {
  StatusContext context;
  context.rows = std::move(rows);
  return json::parse(render_status_json(machine, context));
}

TEST(StatusJsonMig, AGpuInMigModeHoldsItsInstancesWithTheirParentAndProfile) {
  json gpus = status_of(test::h100_split_in_use())["gpus"];
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0]["mig_mode"], json({{"current", "enabled"}, {"pending", "enabled"}}));
  EXPECT_EQ(gpus[0]["mig"], nullptr);
  ASSERT_EQ(gpus[0]["mig_instances"].size(), 3u);
  json second = gpus[0]["mig_instances"][1];
  EXPECT_EQ(second["index"], 3);
  EXPECT_EQ(second["uuid"], "MIG-b0000003-aaaa-bbbb-cccc-000000000000");
  EXPECT_EQ(second["mig"], json({{"parent_uuid", "GPU-a0000000-1111-2222-3333-444455556666"},
                                 {"parent_index", 0},
                                 {"profile", "2g.20gb"},
                                 {"gpu_instance_id", 5},
                                 {"compute_instance_id", 0},
                                 {"gpu_slices", 2},
                                 {"compute_slices", 2},
                                 {"device", 1}}));
  EXPECT_EQ(second["mig_mode"], nullptr);
  EXPECT_EQ(second["mig_instances"], json::array());
  EXPECT_EQ(second["memory_total_mib"], 20096);
  EXPECT_EQ(second["utilization_percent"], nullptr);
  EXPECT_EQ(second["claims"][0]["pid"], 311);
  EXPECT_EQ(gpus[0]["mig_instances"][0]["processes"][0]["pid"], 4242);
  EXPECT_EQ(gpus[1]["mig_mode"], json({{"current", "disabled"}, {"pending", "disabled"}}));
  EXPECT_EQ(gpus[1]["mig_instances"], json::array());
}

TEST(StatusJsonMig, NamingAnInstanceListsItUnderItsGpuAlone) {
  json gpus = status_of(test::h100_split_in_use(), std::vector<unsigned>{4})["gpus"];
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0]["index"], 0);
  ASSERT_EQ(gpus[0]["mig_instances"].size(), 1u);
  EXPECT_EQ(gpus[0]["mig_instances"][0]["index"], 4);
}

TEST(StatusJsonMig, LinksJoinWholeGpusOnly) {
  Machine machine = test::h100_split_in_use();
  machine.links.assign(2, std::vector<GpuLink>(2));
  machine.links[0][1].nvlinks = machine.links[1][0].nvlinks = 18;
  json gpus = status_of(machine)["gpus"];
  EXPECT_EQ(gpus[0]["links"], json::parse(R"([{"gpu": 1, "label": "NV18", "nvlinks": 18, "pcie": null}])"));
  EXPECT_EQ(gpus[0]["mig_instances"][0]["links"], json::array());
}

TEST(StatusJsonMig, AGpuWithoutMigHasNullsAndNoInstances) {
  json gpu = status_of(test::machine_of({test::GpuBuilder(0)}))["gpus"][0];
  EXPECT_EQ(gpu["mig_mode"], nullptr);
  EXPECT_EQ(gpu["mig"], nullptr);
  EXPECT_EQ(gpu["mig_instances"], json::array());
}

}  // namespace
}  // namespace wg
