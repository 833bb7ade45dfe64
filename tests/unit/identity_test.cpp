#include "core/identity.hpp"

#include <gtest/gtest.h>

#include "unit/machine_builder.hpp"

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

TEST(Identity, AnExplicitFormatWins) {
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::index, {std::nullopt, "FASTEST_FIRST"}, true), IdFormat::index);
  EXPECT_EQ(resolve_id_format(shuffled(), IdFormat::uuid, {}, false), IdFormat::uuid);
}

}  // namespace
}  // namespace wg
