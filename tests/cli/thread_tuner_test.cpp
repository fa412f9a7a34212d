// `--threads auto`: the tuner tries each split in turn, ignores each one's warm-up
// step, keeps the fastest median, and the CLI reports the choice.
#include "thread_tuner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"
#include "test_support.h"

namespace loom {
namespace {

class ThreadTunerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    runtime::set_num_threads(saved_threads_);
    runtime::set_interop_enabled(false);
  }
  int saved_threads_ = runtime::num_threads();
};

TEST_F(ThreadTunerTest, AppliesEachCandidateInTurnAndKeepsTheFastest) {
  cli::ThreadTuner tuner({{3, false}, {2, true}, {1, false}}, 3);
  // Step times: candidate 1 is fastest once its warm-up step (100 s) is ignored.
  const double times[] = {9, 5, 5, 100, 2, 2, 9, 4, 4};
  const int expected_threads[] = {3, 3, 3, 2, 2, 2, 1, 1, 1};
  for (int step = 0; step < 9; ++step) {
    ASSERT_FALSE(tuner.done()) << "step " << step;
    tuner.before_step(step);
    EXPECT_EQ(runtime::num_threads(), expected_threads[step]) << "step " << step;
    tuner.after_step(step, times[step]);
  }
  ASSERT_TRUE(tuner.done());
  EXPECT_EQ(tuner.chosen().intra_threads, 2);
  EXPECT_TRUE(tuner.chosen().interop);
  EXPECT_EQ(runtime::num_threads(), 2);
  EXPECT_TRUE(runtime::interop_enabled());
  EXPECT_NE(tuner.report().find("2 threads, inter-op on"), std::string::npos) << tuner.report();
  // Later steps leave the choice alone.
  tuner.before_step(9);
  tuner.after_step(9, 0.001);
  EXPECT_EQ(runtime::num_threads(), 2);
}

TEST_F(ThreadTunerTest, OneThreadBudgetHasNothingToTune) {
  cli::ThreadTuner tuner(1);
  EXPECT_TRUE(tuner.done());
  EXPECT_EQ(tuner.chosen().intra_threads, 1);
}

TEST_F(ThreadTunerTest, TwoThreadBudgetTriesInteropAndOneThread) {
  cli::ThreadTuner tuner(2);
  ASSERT_EQ(tuner.candidates().size(), 3u);
  EXPECT_EQ(tuner.candidates()[0].intra_threads, 2);
  EXPECT_TRUE(tuner.candidates()[1].interop);
  EXPECT_EQ(tuner.candidates()[2].intra_threads, 1);
}

TEST(ThreadsAutoCli, PrintsTheChosenSplitAndRecordsIt) {
  testing::TempDir tmp;
  const std::string m = tmp.file("m.json");
  auto r = testing::run_command(testing::loom_cli() +
                                " train --model mlp --epochs 1 --train-samples 1280 --test-samples 100 --threads auto "
                                "--metrics " +
                                m);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("threads auto: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("<- chosen"), std::string::npos) << r.output;
  std::ifstream f(m);
  auto j = nlohmann::json::parse(f);
  ASSERT_TRUE(j.contains("threads_auto"));
  EXPECT_EQ(j["threads"].get<int>(), std::stoi(j["threads_auto"].get<std::string>()));
}

TEST(ThreadsAutoCli, RejectsAWordThatIsNotAuto) {
  auto r = testing::run_command(testing::loom_cli() + " train --threads fast");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--threads"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
