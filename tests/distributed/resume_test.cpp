// --checkpoint-every under mpirun, a job that dies mid-epoch, and --resume reaching
// the same model as an uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>

#include "dist_cli_support.h"

namespace loom::distributed {
namespace {

using namespace testing_;

TEST(Resume, DdpJobKilledMidEpochResumesToTheSameResult) {
  loom::testing::TempDir tmp;
  write_toy_idx(tmp.path().string(), "train", 1024, 1);
  write_toy_idx(tmp.path().string(), "t10k", 200, 2);
  // 1024 samples / (2 ranks x 32) = 16 steps an epoch; 3 epochs = 48 steps.
  const std::string common =
      "--model mlp --epochs 3 --batch 32 --seed 5 --quiet --data " + tmp.path().string() + " --comm-timeout 20 ";
  const std::string straight = tmp.file("straight.json"), resumed = tmp.file("resumed.json"),
                    ckpt = tmp.file("run.ckpt");
  auto a = loom_train(2, common + "--metrics " + straight);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  // Checkpoints at steps 10, 20; rank 1 dies before step 25 (mid-epoch 2).
  auto b = loom_train(2, common + "--checkpoint " + ckpt + " --checkpoint-every 10", "LOOM_FAULT_INJECT=1:25:exit");
  ASSERT_NE(b.exit_code, 0) << b.output;
  ASSERT_TRUE(std::filesystem::exists(ckpt)) << b.output;
  auto c = loom_train(2, common + "--resume " + ckpt + " --metrics " + resumed);
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_DOUBLE_EQ(read_metrics(resumed)["test_loss"].get<double>(), read_metrics(straight)["test_loss"].get<double>());
  EXPECT_DOUBLE_EQ(read_metrics(resumed)["test_accuracy"].get<double>(),
                   read_metrics(straight)["test_accuracy"].get<double>());
}

}  // namespace
}  // namespace loom::distributed
