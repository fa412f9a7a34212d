#pragma once
// Linear and Embedding: the layers that own a weight matrix.
#include "loom/core/generator.h"
#include "loom/nn/module.h"

namespace loom::nn {

// y = x @ weight^T + bias over the last axis; weight [out, in], bias [out].
// Initialised as PyTorch's nn.Linear (init::default_linear_) from `gen`.
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  // act(forward(x)) as one fused op (linear_act); Sequential uses it for a Linear
  // followed by ReLU or GELU.
  Tensor forward_act(const Tensor& x, Activation act);
  std::string describe() const override;
  void reset_parameters(Generator& gen = default_generator());

  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }  // undefined without bias
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

 private:
  int64_t in_features_, out_features_;
  Tensor weight_, bias_;
};

// Rows of weight [num_embeddings, dim] picked by an i64 index tensor of any shape;
// weight ~ N(0, 1) as PyTorch's nn.Embedding.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& gen = default_generator());
  Tensor forward(const Tensor& index) override;
  std::string describe() const override;

  const Tensor& weight() const { return weight_; }
  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  Tensor weight_;
};

}  // namespace loom::nn
