#pragma once
// Conv2d and the 2-D pooling layers, all on [n, c, h, w] inputs with square
// kernels, strides and padding (PyTorch's int arguments).
#include "loom/core/generator.h"
#include "loom/nn/module.h"

namespace loom::nn {

// weight [out, in, k, k], bias [out]; initialised as PyTorch's nn.Conv2d.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1, int64_t padding = 0,
         bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  void reset_parameters(Generator& gen = default_generator());

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  // act(max_pool2d(forward(x), pool)) as one fused op (conv2d_max_pool2d);
  // Sequential uses it for a Conv2d, [ReLU,] MaxPool2d.
  Tensor forward_max_pool(const Tensor& x, const Pool2dOptions& pool, Activation act = Activation::none);

 private:
  // Checks that x is an image batch with this layer's input channels.
  Conv2dOptions checked_options(const Tensor& x) const;

  int64_t in_channels_, out_channels_, kernel_size_, stride_, padding_;
  Tensor weight_, bias_;
};

// stride 0 means "the kernel size", PyTorch's default.
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  const Pool2dOptions& options() const { return options_; }

 private:
  Pool2dOptions options_;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(int64_t kernel_size, int64_t stride = 0, int64_t padding = 0);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

 private:
  Pool2dOptions options_;
};

}  // namespace loom::nn
