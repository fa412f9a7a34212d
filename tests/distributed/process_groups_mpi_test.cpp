// NOTE [Process groups]: Communicator::split gives sub-groups whose collectives
// and messages stay inside them, nest, and leave out ranks with a negative color.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "loom/distributed/communicator.h"

namespace loom::distributed {
namespace {

TEST(ProcessGroups, SplitByParityReducesWithinEachGroup) {
  auto world = mpi_world();
  const int r = world->rank(), p = world->size();
  // Reverse order by key: the highest world rank becomes group rank 0.
  auto group = world->split(r % 2, -r);
  ASSERT_NE(group, nullptr);
  std::vector<int> members;
  for (int i = 0; i < p; ++i)
    if (i % 2 == r % 2)
      members.push_back(i);
  ASSERT_EQ(group->size(), static_cast<int>(members.size()));
  const int expected_rank = static_cast<int>(members.size()) - 1 -
                            static_cast<int>(std::find(members.begin(), members.end(), r) - members.begin());
  EXPECT_EQ(group->rank(), expected_rank);
  EXPECT_DOUBLE_EQ(group->timeout_seconds(), world->timeout_seconds());
  // A sum over the group sees only its members' world ranks, with every algorithm.
  for (auto algorithm : {AllreduceAlgorithm::automatic, AllreduceAlgorithm::ring,
                         AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::native}) {
    std::vector<float> v(1000, static_cast<float>(r));
    group->allreduce(v.data(), static_cast<int64_t>(v.size()), DType::f32, ReduceOp::sum, algorithm);
    const float want = static_cast<float>(std::accumulate(members.begin(), members.end(), 0));
    for (float x : v)
      ASSERT_EQ(x, want) << algorithm_name(algorithm);
  }
  // Allgather in group order.
  std::vector<int32_t> mine{r}, all(members.size(), -1);
  group->allgather(mine.data(), all.data(), std::vector<int64_t>(members.size(), 1), DType::i32);
  for (size_t i = 0; i < members.size(); ++i)
    EXPECT_EQ(all[i], members[members.size() - 1 - i]);
  world->barrier();
}

TEST(ProcessGroups, NestedGroupsAndRanksLeftOut) {
  auto world = mpi_world();
  const int r = world->rank(), p = world->size();
  if (p < 4)
    GTEST_SKIP() << "needs 4 ranks for a 2 x 2 layout (run with -np 4)";
  // A 2 x 2 layout: "tensor" groups {0,1},{2,3}; "data" groups across them {0,2},{1,3}.
  auto tensor = world->split(r < 4 ? r / 2 : -1, r);
  if (r >= 4) {
    EXPECT_EQ(tensor, nullptr);
  } else {
    ASSERT_NE(tensor, nullptr);
    EXPECT_EQ(tensor->size(), 2);
    EXPECT_EQ(tensor->rank(), r % 2);
  }
  auto data = world->split(r < 4 ? r % 2 : -1, r);
  if (r < 4) {
    ASSERT_NE(data, nullptr);
    int v = r;
    data->allreduce(&v, 1, DType::i32);
    EXPECT_EQ(v, (r % 2) + (r % 2 + 2));
    // A group of a group: each data group split in two singletons.
    auto single = data->split(data->rank(), 0);
    ASSERT_NE(single, nullptr);
    EXPECT_EQ(single->size(), 1);
    int w = 7;
    single->allreduce(&w, 1, DType::i32);
    EXPECT_EQ(w, 7);
  }
  world->barrier();
}

}  // namespace
}  // namespace loom::distributed
