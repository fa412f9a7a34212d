#include "loom/nn/conv.h"

#include "loom/nn/init.h"

namespace loom::nn {
namespace {

void check_image_batch(const Tensor& x, const char* layer) {
  LOOM_CHECK(x.defined() && x.dim() == 4, layer, ": expected a [n, c, h, w] input, got shape ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"),
             "; add a batch axis or reshape flat images");
}

Pool2dOptions pool_options(const char* layer, int64_t kernel, int64_t stride, int64_t padding) {
  LOOM_CHECK(kernel > 0 && stride >= 0 && padding >= 0, layer, ": kernel must be positive and stride/padding ",
             "non-negative, got kernel ", kernel, ", stride ", stride, ", padding ", padding);
  LOOM_CHECK(2 * padding <= kernel, layer, ": padding ", padding, " must be at most half the kernel size ", kernel,
             " (as PyTorch)");
  const int64_t s = stride == 0 ? kernel : stride;
  return {kernel, kernel, s, s, padding, padding};
}

std::string pool_describe(const char* layer, const Pool2dOptions& o) {
  return std::string(layer) + "(kernel=" + std::to_string(o.kernel_h) + ", stride=" + std::to_string(o.stride_h) +
         ", padding=" + std::to_string(o.pad_h) + ")";
}

}  // namespace

Conv2d::Conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride, int64_t padding,
               bool bias, Generator& gen)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      kernel_size_(kernel_size),
      stride_(stride),
      padding_(padding) {
  LOOM_CHECK(in_channels > 0 && out_channels > 0 && kernel_size > 0 && stride > 0 && padding >= 0,
             "Conv2d: channels, kernel size and stride must be positive and padding non-negative, got in=", in_channels,
             ", out=", out_channels, ", kernel=", kernel_size, ", stride=", stride, ", padding=", padding);
  weight_ = register_parameter("weight", Tensor::empty({out_channels, in_channels, kernel_size, kernel_size}));
  if (bias)
    bias_ = register_parameter("bias", Tensor::empty({out_channels}));
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator& gen) { init::default_linear_(weight_, bias_, gen); }

Conv2dOptions Conv2d::checked_options(const Tensor& x) const {
  check_image_batch(x, "Conv2d");
  LOOM_CHECK(x.size(1) == in_channels_, "Conv2d: input has ", x.size(1), " channels but the layer expects ",
             in_channels_, " (input shape ", shape_str(x.shape()), "); check the dataset's channel count");
  return Conv2dOptions{stride_, stride_, padding_, padding_};
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight_, bias_, checked_options(x)); }

Tensor Conv2d::forward_max_pool(const Tensor& x, const Pool2dOptions& pool, Activation act) {
  return conv2d_max_pool2d(x, weight_, bias_, checked_options(x), pool, act);
}

std::string Conv2d::describe() const {
  return "Conv2d(in=" + std::to_string(in_channels_) + ", out=" + std::to_string(out_channels_) +
         ", kernel=" + std::to_string(kernel_size_) + ", stride=" + std::to_string(stride_) +
         ", padding=" + std::to_string(padding_) + ", bias=" + (bias_.defined() ? "true" : "false") + ")";
}

MaxPool2d::MaxPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
    : options_(pool_options("MaxPool2d", kernel_size, stride, padding)) {}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_image_batch(x, "MaxPool2d");
  return max_pool2d(x, options_);
}

std::string MaxPool2d::describe() const { return pool_describe("MaxPool2d", options_); }

AvgPool2d::AvgPool2d(int64_t kernel_size, int64_t stride, int64_t padding)
    : options_(pool_options("AvgPool2d", kernel_size, stride, padding)) {}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_image_batch(x, "AvgPool2d");
  return avg_pool2d(x, options_);
}

std::string AvgPool2d::describe() const { return pool_describe("AvgPool2d", options_); }

}  // namespace loom::nn
