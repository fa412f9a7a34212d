// Fault tests: launch a 4-rank job where rank 1 hangs or dies, and check that the job
// ends well within a wall-clock bound with an error naming rank 1.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "test_support.h"

namespace {

#ifdef LOOM_DISTRIBUTED_MPI_TESTS
struct Job {
  loom::testing::CommandResult result;
  double seconds;
};

Job run_fault_job(const std::string& filter, const std::string& algorithm) {
  // `timeout` is the backstop: a hung job is killed (exit 124) and the test fails.
  std::string cmd = "LOOM_FAULT_ALGORITHM=" + algorithm +
                    " timeout -s KILL 60 " LOOM_MPIRUN " -x LOOM_FAULT_ALGORITHM -np 4 " LOOM_DISTRIBUTED_MPI_TESTS
                    " --gtest_filter=" +
                    filter;
  auto start = std::chrono::steady_clock::now();
  Job job{loom::testing::run_command(cmd), 0};
  job.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return job;
}

bool have_mpirun() { return loom::testing::run_command("command -v mpirun").exit_code == 0; }

class HungRank : public ::testing::TestWithParam<std::string> {};

TEST_P(HungRank, OthersNameItAndTheJobEnds) {
  if (!have_mpirun())
    GTEST_SKIP() << "mpirun not found (install openmpi-bin)";
  Job job = run_fault_job("Fault.HungRank", GetParam());
  const std::string& out = job.result.output;
  EXPECT_NE(job.result.exit_code, 0) << out;  // stopped through abort
  EXPECT_NE(job.result.exit_code, 137) << "the job hung and was killed:\n" << out;
  // Timeout 3 s after a warm-up allreduce; generous for a loaded 2-core CI machine.
  EXPECT_LT(job.seconds, 30.0) << out;
  EXPECT_NE(out.find("FAULT_CAUGHT rank 0"), std::string::npos) << out;
  // On a very busy machine a slow live rank may be named beside rank 1; rank 1 must be.
  EXPECT_TRUE(std::regex_search(out, std::regex("ranks? ([0-9]+, )*1(, [0-9]+)* did not answer within"))) << out;
  EXPECT_EQ(out.find("FAULT_MISSED"), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Fault, HungRank, ::testing::Values("ring", "rd", "native", "shm"));

TEST(DeadRank, JobEndsAndNamesIt) {
  if (!have_mpirun())
    GTEST_SKIP() << "mpirun not found (install openmpi-bin)";
  Job job = run_fault_job("Fault.DeadRank", "ring");
  const std::string& out = job.result.output;
  EXPECT_NE(job.result.exit_code, 0) << out;
  EXPECT_NE(job.result.exit_code, 137) << "the job hung and was killed:\n" << out;
  EXPECT_LT(job.seconds, 30.0) << out;
  EXPECT_EQ(out.find("FAULT_MISSED"), std::string::npos) << out;
  // Either mpirun reports the dead process, or a survivor names it first.
  bool named = out.find("rank 1 did not answer") != std::string::npos ||
               out.find("Exit code:    3") != std::string::npos || out.find("rank 1 with PID") != std::string::npos ||
               out.find("exited on signal") != std::string::npos || out.find(",1]") != std::string::npos;
  EXPECT_TRUE(named) << out;
}
#else
TEST(Fault, NeedsMpiTests) { GTEST_SKIP() << "distributed_mpi_tests is not built"; }
#endif

}  // namespace
