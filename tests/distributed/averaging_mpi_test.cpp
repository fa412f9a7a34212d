// Local SGD and EASGD under mpirun: averaging every step is DDP;
// EASGD leaves every rank with the same center.
#include <gtest/gtest.h>

#include "ddp_strategies.h"

namespace loom::distributed {
namespace {

using namespace testing_;

TEST(AveragingMpi, LocalSgdSyncingEveryStepEqualsSingleProcess) {
  // With momentum too: the rounds average the momentum buffers (NOTE [Model averaging]).
  for (double momentum : {0.0, 0.9}) {
    const Tensor expected = reference_parameters(5, momentum);
    DistOptions d;
    d.mode = DistMode::localsgd;
    d.sync_every = 1;
    EXPECT_LT(loom::testing::max_abs_diff(strategy_parameters(d, 5, momentum), expected), 2e-5)
        << "momentum " << momentum;
  }
}

TEST(AveragingMpi, LocalSgdAndEasgdEndWithTheSameModelOnEveryRank) {
  auto comm = mpi_world();
  for (DistMode mode : {DistMode::localsgd, DistMode::easgd}) {
    DistOptions d;
    d.mode = mode;
    d.sync_every = 3;
    Tensor mine = strategy_parameters(d, 7, 0.9);  // 7: the last round is partial
    Tensor from_root = mine.clone();
    comm->broadcast(from_root.raw_data(), from_root.nbytes(), 0);
    EXPECT_EQ(loom::testing::max_abs_diff(mine, from_root), 0.0) << dist_mode_name(mode);
  }
}

}  // namespace
}  // namespace loom::distributed
