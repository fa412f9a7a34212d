// The autograd engine's inter-op mode (NOTE [Backward schedule] in
// src/autograd/engine.cpp): independent branches run concurrently and the
// gradients are bit-identical to the sequential run.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "loom/autograd.h"
#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"

namespace loom {
namespace {

std::vector<float> values(int64_t n, float scale, float shift) {
  std::vector<float> v(static_cast<size_t>(n));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = scale * static_cast<float>((i * 7919) % 101) / 101.0f + shift;
  return v;
}

struct Grads {
  std::vector<float> x, w1, w2, w3;
};

// Four branches from x (three matmuls and an elementwise one) feeding a sum, so
// x's gradient gets four contributions whose order matters in float.
Grads run_branched(bool interop) {
  runtime::set_interop_enabled(interop);
  Tensor x = Tensor::from_vector<float>(values(64 * 96, 2.0f, -1.0f), {64, 96}).set_requires_grad(true);
  Tensor w1 = Tensor::from_vector<float>(values(96 * 32, 0.5f, -0.25f), {96, 32}).set_requires_grad(true);
  Tensor w2 = Tensor::from_vector<float>(values(96 * 32, 0.3f, -0.1f), {96, 32}).set_requires_grad(true);
  Tensor w3 = Tensor::from_vector<float>(values(96 * 32, 0.7f, -0.3f), {96, 32}).set_requires_grad(true);
  Tensor a = tanh(matmul(x, w1));
  Tensor b = sigmoid(matmul(mul(x, x), w2));
  Tensor c = relu(matmul(exp(mul_scalar(x, 0.1)), w3));
  Tensor d = sum(mul(x, x), {1}, true);
  Tensor loss = sum(add(add(mul(a, b), c), d));
  loss.backward();
  runtime::set_interop_enabled(false);
  return {x.grad().to_vector<float>(), w1.grad().to_vector<float>(), w2.grad().to_vector<float>(),
          w3.grad().to_vector<float>()};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(InteropBackward, BranchedGraphGradientsAreBitIdenticalToSequential) {
  runtime::set_num_threads(2);
  const Grads seq = run_branched(false);
  ASSERT_EQ(seq.x.size(), 64u * 96u);
  for (int rep = 0; rep < 50; ++rep) {
    const Grads par = run_branched(true);
    ASSERT_TRUE(same_bits(seq.x, par.x)) << "rep " << rep;
    ASSERT_TRUE(same_bits(seq.w1, par.w1)) << "rep " << rep;
    ASSERT_TRUE(same_bits(seq.w2, par.w2)) << "rep " << rep;
    ASSERT_TRUE(same_bits(seq.w3, par.w3)) << "rep " << rep;
  }
}

TEST(InteropBackward, BranchesRunAsInteropTasks) {
  runtime::set_num_threads(2);
  runtime::set_interop_enabled(true);
  const int64_t jobs_before = runtime::pool_stats().jobs;
  Tensor x = Tensor::from_vector<float>(values(256, 1.0f, 0.0f), {16, 16}).set_requires_grad(true);
  Tensor loss = sum(add(tanh(x), sigmoid(x)));
  loss.backward();
  runtime::set_interop_enabled(false);
  // tanh's and sigmoid's backward nodes form one wave of two: handed to the pool.
  EXPECT_GE(runtime::pool_stats().jobs - jobs_before, 2);
  EXPECT_EQ(x.grad().numel(), 256);
}

}  // namespace
}  // namespace loom
