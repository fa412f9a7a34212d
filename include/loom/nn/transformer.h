#pragma once
// The layers of a transformer beyond Linear, LayerNorm and GELU: learned position
// embeddings and multi-head self-attention over [batch, time, width] sequences.
// Both read the thread's DecodeCache when one is current (NOTE [Incremental
// decoding] in loom/nn/decode.h).
#include <cstdint>

#include "loom/core/generator.h"
#include "loom/nn/linear.h"
#include "loom/nn/module.h"

namespace loom::nn {

// x [b, t, dim] + weight[position : position + t] with weight [context, dim]
// (GPT's learned positions; position is 0 outside decoding).
class PositionEmbedding : public Module {
 public:
  PositionEmbedding(int64_t context, int64_t dim, double init_std = 0.02, Generator& gen = default_generator());
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  const Tensor& weight() const { return weight_; }
  int64_t context() const { return context_; }

 private:
  int64_t context_, dim_;
  Tensor weight_;
};

// Multi-head self-attention: qkv = Linear(width, 3 width) split into heads, the
// fused scaled_dot_product_attention (causal by default), heads merged, then
// proj = Linear(width, width). Parameters "qkv.weight" [3 width, width] (q, k, v
// stacked in that order, each head's d = width / heads columns in turn, as
// PyTorch's nn.MultiheadAttention in_proj_weight), "qkv.bias", "proj.weight",
// "proj.bias".
class SelfAttention : public Module {
 public:
  struct Options {
    bool causal = true;
    bool bias = true;
    double init_std = 0.0;  // > 0: weights ~ N(0, init_std), biases 0; else nn.Linear's default
  };
  SelfAttention(int64_t width, int64_t heads, Options options, Generator& gen = default_generator());
  SelfAttention(int64_t width, int64_t heads, Generator& gen = default_generator())
      : SelfAttention(width, heads, Options{}, gen) {}
  Tensor forward(const Tensor& x) override;
  std::string describe() const override;
  int64_t width() const { return width_; }
  int64_t heads() const { return heads_; }
  bool causal() const { return options_.causal; }

 private:
  int64_t width_, heads_;
  Options options_;
  std::shared_ptr<Linear> qkv_, proj_;
};

// weight ~ N(0, std) and bias = 0 (GPT-2's initialisation).
void init_normal(Linear& layer, double std, Generator& gen = default_generator());

}  // namespace loom::nn
