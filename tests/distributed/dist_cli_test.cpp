// `loom train` under mpirun, end to end: DDP equals one process with the same
// global batch; every strategy converges on Fashion-MNIST to within a point of
// DDP; a rank that stops answering or dies stops the job with an error naming it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "dist_cli_support.h"
#include "loom/core/generator.h"

namespace loom::distributed {
namespace {

using namespace testing_;

class DistCli : public ::testing::Test {
 protected:
  void SetUp() override {
    write_toy_idx(tmp_.path().string(), "train", 1024, 1);
    write_toy_idx(tmp_.path().string(), "t10k", 200, 2);
  }
  std::string toy() const { return " --data " + tmp_.path().string() + " "; }
  loom::testing::TempDir tmp_;
};

TEST_F(DistCli, DdpOnTwoRanksEqualsOneProcessWithTheGlobalBatch) {
  const std::string single = tmp_.file("single.json"), ddp = tmp_.file("ddp.json");
  const std::string common = "--model mlp --epochs 2 --seed 3 --quiet" + toy();
  auto a = loom_train(0, common + "--batch 64 --metrics " + single);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto b = loom_train(2, common + "--batch 32 --dist ddp --metrics " + ddp);
  ASSERT_EQ(b.exit_code, 0) << b.output;
  auto s = read_metrics(single), d = read_metrics(ddp);
  EXPECT_EQ(d["world_size"], 2);
  EXPECT_EQ(d["dist"], "ddp");
  EXPECT_GT(d["bytes_sent"].get<double>(), 0);
  EXPECT_NEAR(d["test_loss"].get<double>(), s["test_loss"].get<double>(), 1e-4);
  EXPECT_NEAR(d["test_accuracy"].get<double>(), s["test_accuracy"].get<double>(), 0.006);
  // Only rank 0 prints: one summary line.
  auto c = loom_train(2, "--model mlp --epochs 1 --batch 32" + toy());
  ASSERT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(c.output.find("done:"), c.output.rfind("done:")) << c.output;
}

TEST_F(DistCli, RankThatStopsAnsweringStopsTheJobWithItsName) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = loom_train(2, "--model mlp --epochs 3 --batch 32 --comm-timeout 5" + toy(), "LOOM_FAULT_INJECT=1:5:hang");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(seconds, 60.0);
  EXPECT_NE(r.output.find("rank 1"), std::string::npos) << r.output;
}

TEST_F(DistCli, RankThatDiesStopsTheJob) {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = loom_train(2, "--model mlp --epochs 3 --batch 32 --comm-timeout 5" + toy(), "LOOM_FAULT_INJECT=1:5:exit");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_LT(seconds, 60.0);
  // mpirun names the process that died as [[job,1],rank].
  EXPECT_NE(r.output.find(",1],1]"), std::string::npos) << r.output;
}

// A table of 301 rows (not divisible by 2, 3 or 4 ranks) with four features in
// [-1, 1] and a target that is linear in them (+ noise): a class label ("yes"/"no")
// or a value.
std::string write_table(const loom::testing::TempDir& tmp, bool classes) {
  Generator g(11);
  std::string csv = "a,b,c,d,target\n";
  for (int i = 0; i < 301; ++i) {
    double f[4], z = 0.3;
    for (int j = 0; j < 4; ++j) {
      f[j] = static_cast<double>(g.below(2001)) / 1000.0 - 1.0;
      z += f[j] * (j - 1.5);
    }
    z += static_cast<double>(g.below(1001)) / 2000.0 - 0.25;
    char row[160];
    std::snprintf(row, sizeof row, "%.3f,%.3f,%.3f,%.3f,", f[0], f[1], f[2], f[3]);
    csv += row;
    if (classes) {
      csv += z > 0 ? "yes\n" : "no\n";
    } else {
      std::snprintf(row, sizeof row, "%.4f\n", z);
      csv += row;
    }
  }
  const std::string path = tmp.file(classes ? "classes.csv" : "values.csv");
  loom::testing::write_file(path, csv);
  return path;
}

TEST_F(DistCli, LinearAndLogisticRegressionOnTwoRanksEqualOneProcess) {
  for (const char* model : {"logistic", "linear"}) {
    const bool logistic = std::string(model) == "logistic";
    const std::string csv = write_table(tmp_, logistic), one = tmp_.file("one.json"), two = tmp_.file("two.json");
    const std::string args =
        std::string("--model ") + model + " --data " + csv + " --target target --epochs 200 --quiet --metrics ";
    auto a = loom_train(0, args + one);
    ASSERT_EQ(a.exit_code, 0) << a.output;
    auto b = loom_train(2, args + two);
    ASSERT_EQ(b.exit_code, 0) << b.output;
    auto s = read_metrics(one), d = read_metrics(two);
    EXPECT_EQ(d["world_size"], 2);
    EXPECT_GT(d["bytes_sent"].get<double>(), 0);
    ASSERT_EQ(d["weights"].size(), 4u);
    for (size_t j = 0; j < 4; ++j)
      EXPECT_NEAR(d["weights"][j].get<double>(), s["weights"][j].get<double>(), 1e-9) << model << " weight " << j;
    EXPECT_NEAR(d["bias"].get<double>(), s["bias"].get<double>(), 1e-9) << model;
    EXPECT_NEAR(d["final_loss"].get<double>(), s["final_loss"].get<double>(), 1e-9) << model;
    EXPECT_LT(s["final_loss"].get<double>(), 0.5 * s["losses"][0].get<double>()) << model << ": did not learn";
    if (logistic)
      EXPECT_GT(s["validation_accuracy"].get<double>(), 0.85);
    else
      EXPECT_LT(s["validation_rmse"].get<double>(), 0.5);
  }
  // --steps counts the same iterations as --epochs here (one step each).
  const std::string csv = write_table(tmp_, false), by_epochs = tmp_.file("e.json"), by_steps = tmp_.file("s.json");
  const std::string base = "--model linear --data " + csv + " --target target --quiet --metrics ";
  ASSERT_EQ(loom_train(0, base + by_epochs + " --epochs 30").exit_code, 0);
  ASSERT_EQ(loom_train(0, base + by_steps + " --steps 30").exit_code, 0);
  EXPECT_EQ(read_metrics(by_epochs)["weights"], read_metrics(by_steps)["weights"]);
  EXPECT_EQ(read_metrics(by_steps)["losses"].size(), read_metrics(by_epochs)["losses"].size());
  auto bad = loom_train(2, "--model logistic --data " + write_table(tmp_, false) + " --target target --quiet");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("two classes"), std::string::npos) << bad.output;
}

// Fashion-MNIST, 6000 training images, global batch 64 everywhere, trained to its
// plateau: 15 epochs with a cosine schedule (lr 0.05 -> 0), so the test compares where
// each strategy converges, not how fast it gets there (after 2 epochs at a constant
// lr, seeds alone move DDP by 2 points), on the whole test set (on 2000 images the
// evaluation alone is +-0.8 points). Seed 1 on the 2-core development machine: DDP
// 84.93%, ps sync 84.93%, ps async 84.40-84.67%, ssp 84.57-84.80%, localsgd (K=4)
// 85.05%, easgd (K=2) 84.76% (docs/DISTRIBUTED.md); 33-45 s in all.
TEST(DistCliFashion, EveryStrategyConvergesToWithinAPointOfDdp) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist"))
    GTEST_SKIP() << "Fashion-MNIST is not at /usr/share/datasets/fashion-mnist";
  loom::testing::TempDir tmp;
  const std::string common = "--model mlp --epochs 15 --schedule cosine --batch 32 --train-samples 6000 --quiet ";
  auto run = [&](int np, const std::string& flags) {
    const std::string m = tmp.file("m.json");
    auto r = loom_train(np, common + flags + " --metrics " + m);
    EXPECT_EQ(r.exit_code, 0) << flags << "\n" << r.output;
    const double acc = r.exit_code == 0 ? read_metrics(m)["test_accuracy"].get<double>() : 0.0;
    std::printf("  %-40s %.2f%%\n", flags.c_str(), 100 * acc);
    return acc;
  };
  const double ddp = run(2, "--dist ddp");
  EXPECT_GT(ddp, 0.83);
  struct Case {
    int np;
    const char* flags;
  };
  for (const Case& c : {Case{3, "--dist ps --ps-mode sync"}, Case{3, "--dist ps --ps-mode async"},
                        Case{3, "--dist ps --ps-mode ssp --staleness 2"}, Case{2, "--dist localsgd --sync-every 4"},
                        Case{2, "--dist easgd --sync-every 2"}}) {
    const double acc = run(c.np, c.flags);
    EXPECT_GT(acc, ddp - 0.01) << c.flags << ": " << acc << " vs DDP " << ddp;
  }
}

}  // namespace
}  // namespace loom::distributed
