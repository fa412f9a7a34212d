// The `loom` command end to end on small synthetic IDX data: bad input gives a
// clear error and a non-zero exit; runs are deterministic; resume and eval agree.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace loom {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::TempDir;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_toy_idx(tmp_.path().string(), "train", 2048, 1);
    testing::write_toy_idx(tmp_.path().string(), "t10k", 200, 2);
  }
  CommandResult loom(const std::string& args) { return run_command(testing::loom_cli() + " " + args); }
  std::string data() const { return " --data " + tmp_.path().string() + " "; }
  nlohmann::json metrics(const std::string& path) {
    std::ifstream f(path);
    return nlohmann::json::parse(f);
  }
  TempDir tmp_;
};

TEST_F(Cli, TrainsAndWritesMetrics) {
  const std::string m = tmp_.file("m.json");
  auto r = loom("train --model mlp --epochs 3 --threads 1" + data() + "--metrics " + m);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("done: test accuracy"), std::string::npos) << r.output;
  auto j = metrics(m);
  for (const char* key : {"test_accuracy", "final_loss", "train_samples_per_s", "epoch_seconds"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["epoch_seconds"].size(), 3u);
  EXPECT_GT(j["test_accuracy"].get<double>(), 0.9);  // the toy task is easy
  EXPECT_LE(j["test_accuracy"].get<double>(), 1.0);
  EXPECT_GT(j["train_samples_per_s"].get<double>(), 0.0);
}

TEST_F(Cli, SameSeedAndThreadsGiveBitIdenticalLosses) {
  for (int threads : {1, 2}) {
    std::vector<nlohmann::json> runs;
    for (int i = 0; i < 2; ++i) {
      const std::string m = tmp_.file("det" + std::to_string(i) + ".json");
      auto r = loom("train --model cnn --epochs 1 --quiet --seed 7 --threads " + std::to_string(threads) + data() +
                    "--metrics " + m);
      ASSERT_EQ(r.exit_code, 0) << r.output;
      runs.push_back(metrics(m));
    }
    EXPECT_EQ(runs[0]["epoch_losses"], runs[1]["epoch_losses"]) << threads << " threads";
    EXPECT_EQ(runs[0]["test_loss"], runs[1]["test_loss"]) << threads << " threads";
  }
}

TEST_F(Cli, ResumeFromCheckpointMatchesAnUninterruptedRun) {
  const std::string straight = tmp_.file("straight.json"), resumed = tmp_.file("resumed.json");
  const std::string ckpt = tmp_.file("run.ckpt");
  auto common = "train --model mlp --quiet --threads 1 --seed 3" + data();
  ASSERT_EQ(loom(common + "--epochs 3 --metrics " + straight).exit_code, 0);
  auto first = loom(common + "--epochs 2 --checkpoint " + ckpt);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  auto second = loom(common + "--epochs 3 --resume " + ckpt + " --metrics " + resumed);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(metrics(straight)["final_loss"], metrics(resumed)["final_loss"]);
  EXPECT_EQ(metrics(straight)["test_loss"], metrics(resumed)["test_loss"]);
}

TEST_F(Cli, EvalOfSavedWeightsMatchesTraining) {
  const std::string w = tmp_.file("w.safetensors"), m = tmp_.file("m.json"), e = tmp_.file("e.json");
  ASSERT_EQ(
      loom("train --model mlp --epochs 1 --quiet --threads 1" + data() + "--save " + w + " --metrics " + m).exit_code,
      0);
  auto r = loom("eval --weights " + w + data() + "--metrics " + e);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(metrics(m)["test_accuracy"], metrics(e)["test_accuracy"]);
}

TEST_F(Cli, TrainingFromPackedShardsMatchesTrainingFromIdx) {
  const std::string prefix = tmp_.file("shards/train"), from_idx = tmp_.file("idx.json"),
                    from_shards = tmp_.file("sh.json");
  auto r = loom("data pack" + data() + "--split train --shard-samples 512 --out " + prefix);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto inspect = loom("data inspect " + prefix + ".manifest.json");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("2048 samples in 4 shards"), std::string::npos) << inspect.output;
  const std::string common = "train --model mlp --epochs 2 --quiet --threads 1 --workers 2 --seed 5 ";
  ASSERT_EQ(loom(common + data() + "--metrics " + from_idx).exit_code, 0);
  r = loom(common + "--data " + prefix + ".manifest.json --test-data " + tmp_.path().string() + " --metrics " +
           from_shards);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(metrics(from_idx)["epoch_losses"], metrics(from_shards)["epoch_losses"]);
  EXPECT_EQ(metrics(from_idx)["test_accuracy"], metrics(from_shards)["test_accuracy"]);
  r = loom("train --model mlp --epochs 1 --data " + prefix + ".manifest.json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--test-data"), std::string::npos) << r.output;
}

TEST_F(Cli, UnknownFlagIsAnError) {
  auto r = loom("train --modle mlp");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--modle"), std::string::npos) << r.output;
}

TEST_F(Cli, MissingDataNamesTheFile) {
  auto r = loom("train --model mlp --data " + tmp_.file("nowhere"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("nowhere"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("loom: error:"), std::string::npos) << r.output;
}

TEST_F(Cli, TruncatedIdxFileIsAClearError) {
  std::string bytes = testing::read_file(tmp_.file("train-images-idx3-ubyte"));
  testing::write_file(tmp_.file("train-images-idx3-ubyte"), bytes.substr(0, bytes.size() / 2));
  auto r = loom("train --model mlp --epochs 1" + data());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("train-images-idx3-ubyte"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
}

TEST_F(Cli, ModelFileShapeMismatchNamesTheLayer) {
  const std::string model = tmp_.file("bad.json");
  testing::write_file(model, R"({"name": "bad", "input_shape": [1, 28, 28], "layers": [
      {"type": "flatten"}, {"type": "linear", "in": 784, "out": 64}, {"type": "relu"},
      {"type": "linear", "in": 100, "out": 10}]})");
  auto r = loom("train --model " + model + " --epochs 1" + data());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("bad.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("layer 3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("64"), std::string::npos) << r.output;
}

TEST_F(Cli, CorruptWeightsFileIsAClearError) {
  const std::string w = tmp_.file("w.safetensors");
  ASSERT_EQ(loom("train --model mlp --epochs 1 --quiet" + data() + "--save " + w).exit_code, 0);
  std::string bytes = testing::read_file(w);
  testing::write_file(w, bytes.substr(0, bytes.size() - 100));  // cut the data short
  auto r = loom("eval --weights " + w + data());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("w.safetensors"), std::string::npos) << r.output;
  testing::write_file(w, "garbage");
  r = loom("eval --weights " + w + data());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("loom: error:"), std::string::npos) << r.output;
}

TEST_F(Cli, InfoReportsTheThreadBudget) {
  auto r = run_command("LOOM_NUM_THREADS=1 " + testing::loom_cli() + " info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("threads:  1 (from LOOM_NUM_THREADS"), std::string::npos) << r.output;
  r = run_command("LOOM_NUM_THREADS=zero " + testing::loom_cli() + " info");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("LOOM_NUM_THREADS"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
