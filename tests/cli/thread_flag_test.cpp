// --threads N on every `loom` command that computes (cli/thread_flag.h): accepted and
// applied, and anything but a count from 1 to 4096 is a clear parse error.
#include <gtest/gtest.h>

#include "test_support.h"

namespace loom {
namespace {

using testing::run_command;

class ThreadFlag : public ::testing::Test {
 protected:
  void SetUp() override { testing::write_file(csv_, "x,y,label\n1,2.5,a\n3,4.5,b\n5,6.5,a\n7,8.5,b\n"); }
  testing::CommandResult loom(const std::string& args) { return run_command(testing::loom_cli() + " " + args); }
  testing::TempDir tmp_;
  const std::string csv_ = tmp_.file("t.csv");
};

TEST_F(ThreadFlag, DataInspectTakesThreads) {
  auto r = loom("data inspect --threads 1 " + csv_);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("label"), std::string::npos) << r.output;
  r = loom("data inspect " + csv_ + " --threads 2");  // after the file too
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(ThreadFlag, ZeroAndNonNumbersAreRejectedWithTheRange) {
  for (const std::string bad : {"0", "abc", "-2", "4097", "1.5", "2x"}) {
    auto r = loom("data inspect --threads " + bad + " " + csv_);
    EXPECT_NE(r.exit_code, 0) << bad << ": " << r.output;
    EXPECT_NE(r.output.find("--threads: expected a whole number of threads from 1 to 4096, got '" + bad + "'"),
              std::string::npos)
        << r.output;
  }
  // train also takes 'auto', and says so.
  auto r = loom("train --threads 0 --epochs 1");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("from 1 to 4096 or 'auto', got '0'"), std::string::npos) << r.output;
}

TEST_F(ThreadFlag, EveryComputingCommandTakesIt) {
  const std::string out = tmp_.file("out.csv");
  auto r = loom("data preprocess --threads 2 --data " + csv_ + " --target label --out " + out +
                " --pipeline '{\"steps\": [{\"kind\": \"standard_scale\"}]}'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = loom("data pack --threads 2 --data " + csv_ + " --target label --out " + tmp_.file("shards"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // info prints the budget, so it shows the flag taking effect.
  r = loom("info --threads 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("threads:  3 (from flag"), std::string::npos) << r.output;
  for (const std::string cmd : {"train", "eval", "infer", "info", "data inspect", "data pack", "data preprocess"}) {
    r = loom(cmd + " --help");
    EXPECT_NE(r.output.find("--threads"), std::string::npos) << cmd << " --help: " << r.output;
  }
  r = loom("--help");
  EXPECT_NE(r.output.find("takes --threads N"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
