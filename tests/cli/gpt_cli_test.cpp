// `loom train --model gpt` on a small text file and `loom generate` from what it
// saved: the metrics, determinism, the KV cache against no cache, and errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace loom {
namespace {

using testing::run_command;
using testing::TempDir;

class GptCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream f(tmp_.file("corpus.txt"), std::ios::binary);
    for (int i = 0; i < 300; ++i)
      f << "the quick brown fox " << i % 7 << " jumps over the lazy dog\n";
  }
  testing::CommandResult loom(const std::string& args) { return run_command(testing::loom_cli() + " " + args); }
  nlohmann::json metrics(const std::string& path) {
    std::ifstream f(path);
    return nlohmann::json::parse(f);
  }
  std::string train(const std::string& extra) {
    return "train --model gpt --data " + tmp_.file("corpus.txt") + " --batch 4 --threads 1 " + extra;
  }
  TempDir tmp_;
};

TEST_F(GptCli, TrainsByStepsAndReportsTokens) {
  const std::string m1 = tmp_.file("m1.json"), m2 = tmp_.file("m2.json");
  auto r = loom(train("--steps 6 --seed 3 --metrics " + m1 + " --save " + tmp_.file("g.safetensors")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("tokens/s"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("done: validation loss"), std::string::npos) << r.output;
  auto j = metrics(m1);
  EXPECT_EQ(j["steps"], 6);
  EXPECT_EQ(j["max_steps"], 6);
  EXPECT_GT(j["tokens_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["val_loss"].get<double>(), 0.0);
  EXPECT_LT(j["val_loss"].get<double>(), 5.6);  // below uniform over 256 bytes (ln 256 = 5.55) plus noise
  // The same seed gives the same run.
  ASSERT_EQ(loom(train("--steps 6 --seed 3 --quiet --metrics " + m2)).exit_code, 0);
  EXPECT_EQ(metrics(m2)["val_loss"], j["val_loss"]);
  EXPECT_EQ(metrics(m2)["final_loss"], j["final_loss"]);

  // Generation: the prompt, then the bytes; with and without the cache the same.
  const std::string gen = "generate --weights " + tmp_.file("g.safetensors") +
                          " --prompt 'the ' --tokens 30 --seed 5 --temperature 0.7 --top-k 10 --threads 1";
  auto a = loom(gen + " --metrics " + tmp_.file("ga.json"));
  auto b = loom(gen + " --no-cache --metrics " + tmp_.file("gb.json"));
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  const auto ta = metrics(tmp_.file("ga.json"))["text"].get<std::string>();
  EXPECT_EQ(ta.size(), 34u);
  EXPECT_EQ(ta.rfind("the ", 0), 0u);
  EXPECT_EQ(ta, metrics(tmp_.file("gb.json"))["text"].get<std::string>());
  EXPECT_EQ(metrics(tmp_.file("ga.json"))["cache"], true);
}

TEST_F(GptCli, BadTextAndWeightsAreClearErrors) {
  std::ofstream(tmp_.file("tiny.txt")) << "abc";
  auto r = loom("train --model gpt --steps 2 --data " + tmp_.file("tiny.txt"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("fewer than one window of 64 tokens"), std::string::npos) << r.output;
  r = loom("train --model gpt --steps 2 --data " + tmp_.file("missing_dir"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no such file or directory"), std::string::npos) << r.output;
  // An image model's weights cannot generate text.
  testing::write_toy_idx(tmp_.path().string(), "train", 256, 1);
  testing::write_toy_idx(tmp_.path().string(), "t10k", 64, 2);
  ASSERT_EQ(loom("train --model mlp --epochs 1 --quiet --data " + tmp_.path().string() + " --save " +
                 tmp_.file("mlp.safetensors"))
                .exit_code,
            0);
  r = loom("generate --weights " + tmp_.file("mlp.safetensors") + " --prompt hi");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("needs a model of [context] token inputs"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace loom
