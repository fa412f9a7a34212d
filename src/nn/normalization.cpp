#include "loom/nn/normalization.h"

#include <algorithm>
#include <sstream>

namespace loom::nn {

BatchNorm::BatchNorm(const char* name, std::vector<int64_t> ranks, const char* shape_hint, int64_t num_features,
                     double eps, double momentum)
    : name_(name),
      ranks_(std::move(ranks)),
      shape_hint_(shape_hint),
      num_features_(num_features),
      eps_(eps),
      momentum_(momentum) {
  LOOM_CHECK(num_features > 0, name, ": the number of features must be positive, got ", num_features);
  LOOM_CHECK(eps > 0 && momentum >= 0 && momentum <= 1, name, ": expected eps > 0 and momentum in [0, 1], got eps ",
             eps, " and momentum ", momentum);
  weight_ = register_parameter("weight", Tensor::ones({num_features}));
  bias_ = register_parameter("bias", Tensor::zeros({num_features}));
  running_mean_ = register_buffer("running_mean", Tensor::zeros({num_features}));
  running_var_ = register_buffer("running_var", Tensor::ones({num_features}));
  num_batches_tracked_ = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::i64));
}

Tensor BatchNorm::forward(const Tensor& x) {
  const bool rank_ok = x.defined() && std::find(ranks_.begin(), ranks_.end(), x.dim()) != ranks_.end();
  LOOM_CHECK(rank_ok, name_, ": expected a ", shape_hint_, " input, got shape ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  LOOM_CHECK(x.size(1) == num_features_, name_, ": input has ", x.size(1), " channels but the layer expects ",
             num_features_, " (input shape ", shape_str(x.shape()), ")");
  Tensor y = batch_norm(x, weight_, bias_, running_mean_, running_var_, training_, momentum_, eps_);
  if (training_)
    ++num_batches_tracked_.data<int64_t>()[0];
  return y;
}

std::string BatchNorm::describe() const {
  std::ostringstream os;
  os << name_ << "(" << num_features_ << ", eps=" << eps_ << ", momentum=" << momentum_ << ")";
  return os.str();
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine)
    : normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  LOOM_CHECK(!normalized_shape_.empty() && shape_numel(normalized_shape_) > 0,
             "LayerNorm: normalized_shape must be non-empty with positive sizes, got ", shape_str(normalized_shape_));
  LOOM_CHECK(eps > 0, "LayerNorm: eps must be positive, got ", eps);
  if (elementwise_affine) {
    weight_ = register_parameter("weight", Tensor::ones(normalized_shape_));
    bias_ = register_parameter("bias", Tensor::zeros(normalized_shape_));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  const int64_t k = static_cast<int64_t>(normalized_shape_.size());
  const bool ok = x.defined() && x.dim() >= k && Shape(x.shape().end() - k, x.shape().end()) == normalized_shape_;
  LOOM_CHECK(ok, "LayerNorm: the input's trailing axes must be ", shape_str(normalized_shape_), ", got input shape ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return layer_norm(x, k, weight_, bias_, eps_);
}

std::string LayerNorm::describe() const {
  std::ostringstream os;
  os << "LayerNorm(" << shape_str(normalized_shape_) << ", eps=" << eps_
     << ", elementwise_affine=" << (weight_.defined() ? "true" : "false") << ")";
  return os.str();
}

}  // namespace loom::nn
