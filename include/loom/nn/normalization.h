#pragma once
// BatchNorm1d/2d and LayerNorm, with PyTorch's parameter and buffer names
// (weight, bias, running_mean, running_var, num_batches_tracked), so a state_dict
// loads into either framework under the same keys.
#include "loom/nn/module.h"

namespace loom::nn {

// Shared by BatchNorm1d and BatchNorm2d, which differ only in the input rank they accept.
// In training the batch statistics normalise and the running ones are updated
// (momentum 0.1, unbiased variance); in evaluation the running ones normalise.
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }
  const Tensor& running_mean() const { return running_mean_; }
  const Tensor& running_var() const { return running_var_; }
  int64_t num_batches_tracked() const { return num_batches_tracked_.item<int64_t>(); }

 protected:
  // `ranks` lists the input ranks this layer accepts; `shape_hint` names them for errors.
  BatchNorm(const char* name, std::vector<int64_t> ranks, const char* shape_hint, int64_t num_features, double eps,
            double momentum);

 private:
  const char* name_;
  std::vector<int64_t> ranks_;
  const char* shape_hint_;
  int64_t num_features_;
  double eps_, momentum_;
  Tensor weight_, bias_, running_mean_, running_var_, num_batches_tracked_;
};

// Input [n, c] or [n, c, length].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm1d", {2, 3}, "[n, c] or [n, c, length]", num_features, eps, momentum) {}
};

// Input [n, c, h, w].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_channels, double eps = 1e-5, double momentum = 0.1)
      : BatchNorm("BatchNorm2d", {4}, "[n, c, h, w]", num_channels, eps, momentum) {}
};

// Normalises over the trailing `normalized_shape` axes; weight ones and bias zeros
// of that shape when elementwise_affine.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true);
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;

  const Tensor& weight() const { return weight_; }  // undefined without elementwise_affine
  const Tensor& bias() const { return bias_; }

 private:
  Shape normalized_shape_;
  double eps_;
  Tensor weight_, bias_;
};

}  // namespace loom::nn
