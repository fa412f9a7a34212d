// One model, forward from 8 threads at once: every result equals the sequential
// run bit for bit (NOTE [Graph programs]: forward only reads the program;
// NOTE [Plan cache]: each thread has its own convolution scratch). Also run
// under ThreadSanitizer by scripts/sanitize.sh thread.
#include <gtest/gtest.h>

#include <thread>

#include "loom/loom.h"
#include "test_support.h"

namespace loom {
namespace {

void check_concurrent_forward(const std::shared_ptr<nn::Graph>& model) {
  model->eval();
  NoGradGuard no_grad;
  constexpr int kThreads = 8, kRounds = 3;
  std::vector<Tensor> inputs, expected;
  for (int t = 0; t < kThreads; ++t) {
    inputs.push_back(Generator(100 + t).uniform_tensor({16, 1, 28, 28}, 0, 1));
    expected.push_back(model->forward(inputs.back()));
  }
  std::vector<std::vector<Tensor>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        NoGradGuard guard;  // grad mode is per thread
        for (int r = 0; r < kRounds; ++r)
          got[static_cast<size_t>(t)].push_back(model->forward(inputs[static_cast<size_t>(t)]));
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(t)] = e.what();
      }
    });
  }
  for (auto& th : threads)
    th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[static_cast<size_t>(t)], "") << "thread " << t;
    ASSERT_EQ(got[static_cast<size_t>(t)].size(), static_cast<size_t>(kRounds));
    for (const Tensor& y : got[static_cast<size_t>(t)])
      EXPECT_EQ(y.to_vector<float>(), expected[static_cast<size_t>(t)].to_vector<float>()) << "thread " << t;
  }
}

TEST(ConcurrentInference, EightThreadsOnTheCnnGiveTheSequentialBits) {
  check_concurrent_forward(io::model_from_json_text(io::builtin_model_description("cnn"), "cnn"));
}

TEST(ConcurrentInference, EightThreadsOnTheResidualGraphGiveTheSequentialBits) {
  check_concurrent_forward(io::load_model_description(LOOM_SOURCE_DIR "/examples/models/resnet_fmnist.json"));
}

}  // namespace
}  // namespace loom
