#include "loom/nn/linear.h"

#include "loom/nn/init.h"

namespace loom::nn {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator& gen)
    : in_features_(in_features), out_features_(out_features) {
  LOOM_CHECK(in_features > 0 && out_features > 0, "Linear: in_features and out_features must be positive, got ",
             in_features, " and ", out_features);
  weight_ = register_parameter("weight", Tensor::empty({out_features, in_features}));
  if (bias)
    bias_ = register_parameter("bias", Tensor::empty({out_features}));
  reset_parameters(gen);
}

void Linear::reset_parameters(Generator& gen) { init::default_linear_(weight_, bias_, gen); }

namespace {

void check_input(const Tensor& x, int64_t in_features) {
  LOOM_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in_features, "Linear: input has ",
             x.defined() && x.dim() >= 1 ? x.size(-1) : 0, " features in its last axis but the layer expects ",
             in_features, " (input shape ", x.defined() ? shape_str(x.shape()) : std::string("undefined"),
             "); flatten the input or check the previous layer's output size");
}

}  // namespace

Tensor Linear::forward(const Tensor& x) {
  check_input(x, in_features_);
  return linear(x, weight_, bias_);
}

Tensor Linear::forward_act(const Tensor& x, Activation act) {
  check_input(x, in_features_);
  return linear_act(x, weight_, bias_, act);
}

std::string Linear::describe() const {
  return "Linear(in=" + std::to_string(in_features_) + ", out=" + std::to_string(out_features_) +
         ", bias=" + (bias_.defined() ? "true" : "false") + ")";
}

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  LOOM_CHECK(num_embeddings > 0 && embedding_dim > 0, "Embedding: sizes must be positive, got ", num_embeddings,
             " embeddings of dimension ", embedding_dim);
  weight_ = register_parameter("weight", Tensor::empty({num_embeddings, embedding_dim}));
  init::normal_(weight_, 0.0, 1.0, gen);
}

Tensor Embedding::forward(const Tensor& index) {
  LOOM_CHECK(index.defined() && index.dtype() == DType::i64, "Embedding: indices must be an i64 tensor, got ",
             index.defined() ? dtype_name(index.dtype()) : "an undefined tensor");
  // The row lookup kernel checks every index against the table's row count.
  return embedding(index, weight_);
}

std::string Embedding::describe() const {
  return "Embedding(" + std::to_string(num_embeddings_) + ", " + std::to_string(embedding_dim_) + ")";
}

}  // namespace loom::nn
