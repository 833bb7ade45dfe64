#include "core/gpu_list.hpp"

#include <gtest/gtest.h>

#include "support/machine_builder.hpp"

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

}  // namespace
}  // namespace wg
