// main() of distributed_mpi_tests: every rank runs the same tests in the same order;
// only rank 0 prints the usual report, other ranks print their failures prefixed by
// their rank, and the job fails when any rank failed.
#include <gtest/gtest.h>

#include <cstdio>

#include "loom/distributed/communicator.h"

namespace {

class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (result.failed())
      std::fprintf(stderr, "[rank %d] %s:%d: failure\n%s\n", rank_, result.file_name() ? result.file_name() : "?",
                   result.line_number(), result.summary());
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto comm = loom::distributed::mpi_world();
  // A test that fails on one rank can leave the others waiting in a collective: make
  // that an error after a while rather than a hung CI job.
  comm->set_timeout_seconds(30);
  if (comm->rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new RankFailurePrinter(comm->rank()));
  }
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any = failed;
  comm->allreduce(&any, 1, loom::DType::i32, loom::distributed::ReduceOp::max);
  if (comm->rank() == 0 && any && !failed)
    std::fprintf(stderr, "FAILED on another rank (see the [rank N] lines above)\n");
  return any ? 1 : 0;
}
