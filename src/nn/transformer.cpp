#include "loom/nn/transformer.h"

#include "loom/autograd/grad_mode.h"
#include "loom/nn/decode.h"
#include "loom/nn/init.h"

namespace loom::nn {

void init_normal(Linear& layer, double std, Generator& gen) {
  init::normal_(layer.weight(), 0.0, std, gen);
  if (layer.bias().defined())
    init::zeros_(layer.bias());
}

PositionEmbedding::PositionEmbedding(int64_t context, int64_t dim, double init_std, Generator& gen)
    : context_(context), dim_(dim) {
  LOOM_CHECK(context > 0 && dim > 0, "PositionEmbedding: sizes must be positive, got context ", context, " and dim ",
             dim);
  weight_ = register_parameter("weight", Tensor::empty({context, dim}));
  init::normal_(weight_, 0.0, init_std, gen);
}

Tensor PositionEmbedding::forward(const Tensor& x) {
  LOOM_CHECK(x.defined() && x.dim() >= 2 && x.size(-1) == dim_, "PositionEmbedding: expected [batch, time, ", dim_,
             "] input, got ", x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const DecodeCache* cache = current_decode_cache();
  const int64_t start = cache ? cache->position() : 0, t = x.size(-2);
  LOOM_CHECK(start + t <= context_, "PositionEmbedding: ", t, " positions", start ? " after " : "",
             start ? std::to_string(start) : std::string(), " pass the model's context of ", context_, " (input shape ",
             shape_str(x.shape()), ")");
  return add(x, slice(weight_, 0, start, start + t));
}

std::string PositionEmbedding::describe() const {
  return "PositionEmbedding(context=" + std::to_string(context_) + ", dim=" + std::to_string(dim_) + ")";
}

SelfAttention::SelfAttention(int64_t width, int64_t heads, Options options, Generator& gen)
    : width_(width), heads_(heads), options_(options) {
  LOOM_CHECK(width > 0 && heads > 0 && width % heads == 0, "SelfAttention: width ", width,
             " must be a positive multiple of the head count ", heads);
  qkv_ = register_module("qkv", std::make_shared<Linear>(width, 3 * width, options.bias, gen));
  proj_ = register_module("proj", std::make_shared<Linear>(width, width, options.bias, gen));
  if (options.init_std > 0) {
    init_normal(*qkv_, options.init_std, gen);
    init_normal(*proj_, options.init_std, gen);
  }
}

Tensor SelfAttention::forward(const Tensor& x) {
  LOOM_CHECK(x.defined() && x.dim() == 3 && x.size(2) == width_, "SelfAttention: expected [batch, time, ", width_,
             "] input, got ", x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const int64_t b = x.size(0), t = x.size(1), d = width_ / heads_;
  DecodeCache* cache = current_decode_cache();
  if (!cache)  // the heads are views of the projection (NOTE [Fused attention])
    return proj_->forward(qkv_attention(qkv_->forward(x), heads_, options_.causal));
  // Decoding: the new keys and values join the cache (NOTE [Incremental decoding]).
  const Tensor parts = reshape(qkv_->forward(x), {b, t, 3, heads_, d});
  auto heads_of = [&](int64_t i) { return permute(squeeze(slice(parts, 2, i, i + 1), 2), {0, 2, 1, 3}); };
  Tensor q = heads_of(0), k = heads_of(1), v = heads_of(2);
  LOOM_CHECK(!autograd::grad_enabled(),
             "SelfAttention: decoding with a cache records no gradients; run it under autograd::NoGradGuard");
  DecodeCache::KeysValues kv = cache->extend(this, b, heads_, d, t, x.dtype());
  kv.new_keys.copy_(k);
  kv.new_values.copy_(v);
  k = kv.keys;
  v = kv.values;
  // The output is [b, heads, t, d] stored as [b, t, heads, d]: merging is a view.
  const Tensor y = scaled_dot_product_attention(q, k, v, Tensor(), options_.causal);
  return proj_->forward(reshape(transpose(y, 1, 2), {b, t, width_}));
}

std::string SelfAttention::describe() const {
  return "SelfAttention(width=" + std::to_string(width_) + ", heads=" + std::to_string(heads_) +
         ", causal=" + (options_.causal ? "true" : "false") + ")";
}

}  // namespace loom::nn
