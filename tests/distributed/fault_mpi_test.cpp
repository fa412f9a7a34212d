// The ranks' side of the fault tests (run by fault_driver_test.cpp, never by the plain
// MPI jobs): one rank stops answering, the others must name it within the timeout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {
namespace {

AllreduceAlgorithm algorithm_from_env() {
  const char* env = std::getenv("LOOM_FAULT_ALGORITHM");
  return parse_algorithm(env ? env : "ring");
}

// Rank 1 hangs (as in a deadlocked data loader); the others' allreduce must fail with
// the rank named, after which the job is stopped as training would stop it.
TEST(Fault, HungRank) {
  auto comm = mpi_world();
  comm->set_timeout_seconds(3);
  std::vector<float> grad(1 << 20, 1.0f);
  comm->allreduce(grad.data(), static_cast<int64_t>(grad.size()), DType::f32);  // all healthy once
  if (comm->rank() == 1) {
    std::printf("FAULT rank 1 hangs\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::hours(1));
  }
  auto start = std::chrono::steady_clock::now();
  try {
    comm->allreduce(grad.data(), static_cast<int64_t>(grad.size()), DType::f32, ReduceOp::sum, algorithm_from_env());
    std::printf("FAULT_MISSED rank %d: allreduce returned\n", comm->rank());
  } catch (const DistributedError& e) {
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("FAULT_CAUGHT rank %d after %.1f s: %s\n", comm->rank(), s, e.message().c_str());
  }
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let the others print too
  comm->abort("fault test finished");
}

// Rank 1 dies before the allreduce: mpirun must end the whole job.
TEST(Fault, DeadRank) {
  auto comm = mpi_world();
  comm->set_timeout_seconds(3);
  std::vector<float> grad(1 << 16, 1.0f);
  comm->barrier();
  if (comm->rank() == 1) {
    std::printf("FAULT rank 1 exits\n");
    std::fflush(stdout);
    _exit(3);
  }
  try {
    comm->allreduce(grad.data(), static_cast<int64_t>(grad.size()), DType::f32, ReduceOp::sum, algorithm_from_env());
    std::printf("FAULT_MISSED rank %d: allreduce returned\n", comm->rank());
  } catch (const DistributedError& e) {
    std::printf("FAULT_CAUGHT rank %d: %s\n", comm->rank(), e.message().c_str());
  }
  std::fflush(stdout);
  comm->abort("fault test finished");
}

}  // namespace
}  // namespace loom::distributed
