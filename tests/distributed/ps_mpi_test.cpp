// Parameter server under mpirun: sync mode equals one process on the global batch
// (with one server, and with two where there are ranks for them); async and SSP
// finish and leave every rank with the servers' model.
#include <gtest/gtest.h>

#include "ddp_strategies.h"

namespace loom::distributed {
namespace {

using namespace testing_;

TEST(PsMpi, SyncEqualsSingleProcess) {
  auto comm = mpi_world();
  const Tensor expected = reference_parameters(5, 0.9);
  for (int servers = 1; servers <= 2 && servers < comm->size(); ++servers) {
    DistOptions d;
    d.mode = DistMode::ps;
    d.servers = servers;
    d.ps_mode = PsMode::sync;
    EXPECT_LT(loom::testing::max_abs_diff(strategy_parameters(d, 5, 0.9), expected), 2e-5) << servers << " servers";
  }
}

TEST(PsMpi, AsyncAndSspFinishWithOneModelEverywhere) {
  auto comm = mpi_world();
  for (PsMode mode : {PsMode::async, PsMode::ssp}) {
    DistOptions d;
    d.mode = DistMode::ps;
    d.ps_mode = mode;
    d.staleness = 1;
    Tensor mine = strategy_parameters(d, 6, 0.9);
    Tensor from_root = mine.clone();
    comm->broadcast(from_root.raw_data(), from_root.nbytes(), 0);
    EXPECT_EQ(loom::testing::max_abs_diff(mine, from_root), 0.0) << ps_mode_name(mode);
    if (comm->size() == 2) {  // one worker: async is plain SGD
      EXPECT_LT(loom::testing::max_abs_diff(mine, reference_parameters(6, 0.9)), 2e-5) << ps_mode_name(mode);
    }
  }
}

TEST(PsMpi, CompressedPushesStayClose) {
  DistOptions d;
  d.mode = DistMode::ps;
  d.ps_mode = PsMode::sync;
  d.servers = mpi_world()->size() > 2 ? 2 : 1;
  expect_compressed_close_to_reference(d);
}

}  // namespace
}  // namespace loom::distributed
