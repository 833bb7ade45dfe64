#include "core/identity.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;
using test::shuffled;

TEST(Identity, PciOrderSortsByBusId) { EXPECT_EQ(pci_order(shuffled()), std::vector<unsigned>({1, 2, 0})); }

TEST(Identity, IndexFormWritesPciPositionsInSelectionOrderWithPciBusIdOrder) {
  auto env = cuda_environment(shuffled(), {0, 1}, IdFormat::index);
  EXPECT_EQ(env.visible_devices, "2,0");
  EXPECT_EQ(env.device_order, "PCI_BUS_ID");
}

TEST(Identity, UuidFormWritesUuidsAndLeavesTheOrderAlone) {
  auto env = cuda_environment(shuffled(), {2}, IdFormat::uuid);
  EXPECT_EQ(env.visible_devices, "GPU-a0000002-1111-2222-3333-444455556666");
  EXPECT_FALSE(env.device_order.has_value());
}

TEST(Identity, AutoPicksIndicesNormally) {
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::automatic, {}, false), IdFormat::index);
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::automatic, {std::nullopt, "PCI_BUS_ID"}, false), IdFormat::index);
}

TEST(Identity, AutoPicksUuidsWhenPositionsCouldMislead) {
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::automatic, {std::nullopt, "FASTEST_FIRST"}, false), IdFormat::uuid);
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::automatic, {}, true), IdFormat::uuid);
  auto with_lost = machine_of({GpuBuilder(0), GpuBuilder(1).lost()});
  EXPECT_EQ(resolve_id_format(with_lost, IdFormat::automatic, {}, false), IdFormat::uuid);
}

// CUDA counts no device it cannot open: GPUs 0 and 1 refused, GPU 3 is CUDA's device 1.
Machine refused_first_two() {
  return machine_of({GpuBuilder(0).refused_by_driver(), GpuBuilder(1).refused_by_device_node(1), GpuBuilder(2),
                     GpuBuilder(3)});
}

TEST(Identity, PciOrderCountsOnlyTheGpusThisProcessCanOpen) {
  EXPECT_EQ(pci_order(refused_first_two()), std::vector<unsigned>({2, 3}));
  EXPECT_EQ(cuda_environment(refused_first_two(), {3}, IdFormat::index).visible_devices, "1");
}

TEST(Identity, AutoPicksUuidsWhereSomeGpuCannotBeOpened) {
  auto node_refused = machine_of({GpuBuilder(0).refused_by_device_node(0), GpuBuilder(1)});
  EXPECT_EQ(resolve_id_format(node_refused, IdFormat::automatic, {}, false), IdFormat::uuid);
  EXPECT_EQ(resolve_id_format(refused_first_two(), IdFormat::automatic, {}, false), IdFormat::uuid);
  EXPECT_EQ(cuda_environment(refused_first_two(), {2, 3}, IdFormat::uuid).visible_devices,
            "GPU-a0000002-1111-2222-3333-444455556666,GPU-a0000003-1111-2222-3333-444455556666");
}

TEST(Identity, AnExplicitFormatWins) {
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::index, {std::nullopt, "FASTEST_FIRST"}, true), IdFormat::index);
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::uuid, {}, false), IdFormat::uuid);
}

// h100_split(): GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).
TEST(Identity, PciOrderListsGpusNotInstances) {
  EXPECT_EQ(pci_order(test::h100_split()), std::vector<unsigned>({0, 1}));
}

// No position can name an instance, so even --id-format index writes its MIG- UUID.
TEST(Identity, AnInstanceIsAlwaysItsMigUuidAndTheOrderIsLeftAlone) {
  for (IdFormat format : {IdFormat::index, IdFormat::uuid}) {
    auto env = cuda_environment(test::h100_split(), {3}, format);
    EXPECT_EQ(env.visible_devices, "MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff");
    EXPECT_EQ(env.format, IdFormat::uuid);
    EXPECT_FALSE(env.device_order);
  }
}

TEST(Identity, AutoPicksUuidsWhereAGpuIsInMigMode) {
  EXPECT_EQ(resolve_id_format(test::h100_split(), IdFormat::automatic, {}, false), IdFormat::uuid);
  auto env = cuda_environment(test::h100_split(), {0}, IdFormat::index);
  EXPECT_EQ(env.visible_devices, "0");
}

}  // namespace
}  // namespace wg
