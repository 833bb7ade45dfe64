#include "core/gpu_list.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"
#include "support/mig_builder.hpp"

namespace wg {
namespace {

using test::GpuBuilder;
using test::machine_of;

TEST(GpuList, ParsesIndicesInOrder) {
  auto refs = parse_gpu_list("2,0, 1", "--gpu");
  ASSERT_TRUE(refs);
  ASSERT_EQ(refs->size(), 3u);
  EXPECT_EQ(*(*refs)[0].number, 2u);
  EXPECT_EQ(*(*refs)[2].number, 1u);
}

TEST(GpuList, RejectsDuplicatesWordForWord) {
  auto refs = parse_gpu_list("1,1", "--gpu");
  ASSERT_FALSE(refs);
  EXPECT_EQ(refs.error().message, "--gpu lists '1' twice");
  EXPECT_EQ(refs.error().kind, ErrorKind::usage);
}

TEST(GpuList, RejectsJunkAndEmptyEntries) {
  EXPECT_EQ(parse_gpu_list("a", "--gpu").error().message,
            "--gpu: 'a' is not a GPU index or a GPU- UUID (e.g. 0, 0,2 or GPU-8f3a...)");
  EXPECT_EQ(parse_gpu_list("0,,1", "--gpu").error().message,
            "--gpu: empty entry in '0,,1' (separate GPUs with single commas, e.g. 0,2)");
  EXPECT_FALSE(parse_gpu_list("-1", "--gpu"));
}

TEST(GpuList, ResolvesIndicesAndUuidPrefixes) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1), GpuBuilder(2)});
  auto refs = parse_gpu_list("GPU-a0000002,0", "--gpu");
  ASSERT_TRUE(refs);
  auto indices = resolve_gpu_list(*refs, machine);
  ASSERT_TRUE(indices);
  EXPECT_EQ(*indices, std::vector<unsigned>({2, 0}));
}

TEST(GpuList, RejectsUnknownIndexNamingTheCount) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1)});
  auto indices = resolve_gpu_list(*parse_gpu_list("5", "--gpu"), machine);
  ASSERT_FALSE(indices);
  EXPECT_EQ(indices.error().message, "--gpu 5: no such GPU (this machine has 2 GPUs; see with-gpu --status)");
}

TEST(GpuList, RejectsAmbiguousUuidPrefix) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1)});
  auto indices = resolve_gpu_list(*parse_gpu_list("GPU-a000", "--gpu"), machine);
  ASSERT_FALSE(indices);
  EXPECT_EQ(indices.error().message, "--gpu GPU-a000: matches more than one GPU UUID");
}

TEST(GpuList, RejectsTheSameGpuByIndexAndUuid) {
  auto machine = machine_of({GpuBuilder(0), GpuBuilder(1)});
  auto indices = resolve_gpu_list(*parse_gpu_list("1,GPU-a0000001", "--gpu"), machine);
  ASSERT_FALSE(indices);
  EXPECT_EQ(indices.error().message, "--gpu names GPU 1 twice");
}

TEST(GpuList, OnAMachineWithoutGpusSaysSo) {
  auto indices = resolve_gpu_list(*parse_gpu_list("0", "--gpu"), machine_of({}));
  ASSERT_FALSE(indices);
  EXPECT_EQ(indices.error().message, "--gpu 0: no such GPU (this machine has no GPUs)");
}

TEST(GpuList, OneGpuIsCountedInTheSingular) {
  auto indices = resolve_gpu_list(*parse_gpu_list("1", "--gpu"), machine_of({GpuBuilder(0)}));
  ASSERT_FALSE(indices);
  EXPECT_EQ(indices.error().message, "--gpu 1: no such GPU (this machine has 1 GPU; see with-gpu --status)");
}

Result<std::vector<unsigned>> resolve(const std::string& list, const Machine& machine) {
  auto refs = parse_gpu_list(list, "--gpu");
  if (!refs) return refs.error();
  return resolve_gpu_list(*refs, machine);
}

std::string launch_error(const std::string& list, const Machine& machine) {
  auto indices = resolve(list, machine);
  if (!indices) return "resolve: " + indices.error().message;
  auto checked = check_launch_devices(*indices, machine, "--gpu");
  return checked ? "" : checked.error().message;
}

// h100_split(): GPU 0 whole, GPU 1 in MIG mode as 3g.40gb (2) and two 2g.20gb (3, 4).
TEST(GpuListMig, ResolvesMigUuidsAndTheirPrefixes) {
  auto machine = test::h100_split();
  EXPECT_EQ(*resolve("MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff", machine), std::vector<unsigned>({3}));
  EXPECT_EQ(*resolve("mig-B0000004", machine), std::vector<unsigned>({4}));
}

TEST(GpuListMig, ResolvesTheLegacyFormByParentAndInstanceIds) {
  auto machine = test::h100_split();
  EXPECT_EQ(*resolve("MIG-GPU-a0000001-1111-2222-3333-444455556666/2/0", machine), std::vector<unsigned>({3}));
  EXPECT_EQ(*resolve("MIG-GPU-a0000001/1/0", machine), std::vector<unsigned>({2}));
}

TEST(GpuListMig, NumbersNameWholeGpusOnly) {
  auto machine = test::h100_split();
  EXPECT_EQ(*resolve("1,0", machine), std::vector<unsigned>({1, 0}));
  EXPECT_EQ(resolve("2", machine).error().message,
            "--gpu 2: no such GPU (this machine has 2 GPUs; see with-gpu --status)");
}

TEST(GpuListMig, RejectsUnknownAndAmbiguousInstancesWordForWord) {
  auto machine = test::h100_split();
  EXPECT_EQ(resolve("MIG-ffff", machine).error().message,
            "--gpu MIG-ffff: no such MIG instance (this machine has 3 MIG instances; see with-gpu --status)");
  EXPECT_EQ(resolve("MIG-GPU-a0000001/9/0", machine).error().message,
            "--gpu MIG-GPU-a0000001/9/0: no such MIG instance (this machine has 3 MIG instances; see with-gpu --status)");
  EXPECT_EQ(resolve("MIG-b000000", machine).error().message, "--gpu MIG-b000000: matches more than one MIG instance");
  EXPECT_EQ(resolve("MIG-ffff", machine_of({GpuBuilder(0)})).error().message,
            "--gpu MIG-ffff: no such MIG instance (this machine has no MIG instances; see with-gpu --status)");
  EXPECT_EQ(resolve("MIG-ffff", machine_of({})).error().message,
            "--gpu MIG-ffff: no such MIG instance (this machine has no GPUs)");
}

TEST(GpuListMig, RejectsTheSameInstanceInBothForms) {
  EXPECT_EQ(resolve("MIG-b0000003,MIG-GPU-a0000001/2/0", test::h100_split()).error().message,
            "--gpu names GPU 1 MIG 2g.20gb #1 twice");
}

TEST(GpuListMig, ALaunchMayNotNameAGpuInMigMode) {
  EXPECT_EQ(launch_error("1", test::h100_split()),
            "--gpu: GPU 1 is in MIG mode, so CUDA uses its MIG instances, not the whole GPU; name one of them: "
            "MIG-b0000002-aaaa-bbbb-cccc-ddddeeeeffff (3g.40gb), MIG-b0000003-aaaa-bbbb-cccc-ddddeeeeffff (2g.20gb), "
            "MIG-b0000004-aaaa-bbbb-cccc-ddddeeeeffff (2g.20gb)");
  auto empty = machine_of({test::split(GpuBuilder(0))});
  EXPECT_EQ(launch_error("0", empty),
            "--gpu: GPU 0 is in MIG mode, so CUDA uses its MIG instances, not the whole GPU, and it has none");
}

TEST(GpuListMig, ALaunchMayNameOneInstanceAloneOnly) {
  auto machine = test::h100_split();
  EXPECT_EQ(launch_error("MIG-b0000002", machine), "");
  EXPECT_EQ(launch_error("0", machine), "");
  EXPECT_EQ(launch_error("MIG-b0000002,MIG-b0000003", machine),
            "--gpu names GPU 1 MIG 3g.40gb #0 and GPU 1 MIG 2g.20gb #1: a CUDA process uses one MIG instance and "
            "no other device (never two instances); run one launch per instance");
  EXPECT_EQ(launch_error("0,MIG-b0000002", machine),
            "--gpu names GPU 1 MIG 3g.40gb #0 and GPU 0: a CUDA process uses one MIG instance and no other device "
            "(never an instance and a GPU); run one launch per instance");
}

}  // namespace
}  // namespace wg
