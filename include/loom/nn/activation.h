#pragma once
// Parameter-free element-wise layers and Softmax.
#include "loom/nn/module.h"

namespace loom::nn {

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string describe() const override { return "ReLU()"; }
};

// The exact (erf) form, PyTorch's default.
class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return gelu(x); }
  std::string describe() const override { return "GELU()"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return loom::tanh(x); }
  std::string describe() const override { return "Tanh()"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
  std::string describe() const override { return "Sigmoid()"; }
};

class Softmax : public Module {
 public:
  explicit Softmax(int64_t axis = -1) : axis_(axis) {}
  Tensor forward(const Tensor& x) override { return softmax(x, axis_); }
  std::string describe() const override { return "Softmax(axis=" + std::to_string(axis_) + ")"; }

 private:
  int64_t axis_;
};

// Axes start..end (inclusive, may be negative) merged into one; PyTorch's defaults
// keep the batch axis.
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_axis = 1, int64_t end_axis = -1) : start_(start_axis), end_(end_axis) {}
  Tensor forward(const Tensor& x) override { return flatten(x, start_, end_); }
  std::string describe() const override {
    return "Flatten(start=" + std::to_string(start_) + ", end=" + std::to_string(end_) + ")";
  }

 private:
  int64_t start_, end_;
};

}  // namespace loom::nn
