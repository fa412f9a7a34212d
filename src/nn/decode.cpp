#include "loom/nn/decode.h"

#include "loom/core/error.h"

namespace loom::nn {
namespace {
thread_local DecodeCache* t_current = nullptr;
}

DecodeCache::DecodeCache(int64_t max_positions) : max_positions_(max_positions) {
  LOOM_CHECK(max_positions > 0, "DecodeCache: max_positions must be positive, got ", max_positions);
}

void DecodeCache::advance(int64_t n) {
  LOOM_CHECK(n >= 0 && position_ + n <= max_positions_, "DecodeCache: advancing ", n, " positions from ", position_,
             " passes the model's context of ", max_positions_, " positions");
  position_ += n;
}

void DecodeCache::reset() {
  position_ = 0;
  layers_.clear();
}

DecodeCache::KeysValues DecodeCache::extend(const Module* layer, int64_t batch, int64_t heads, int64_t head_dim,
                                            int64_t new_positions, DType dtype) {
  const int64_t length = position_ + new_positions;
  LOOM_CHECK(length <= max_positions_, "decoding: ", new_positions, " new positions after ", position_,
             " pass the model's context of ", max_positions_, " positions");
  auto [it, fresh] = layers_.try_emplace(layer);
  Buffers& b = it->second;
  if (fresh) {
    b.keys = Tensor::zeros({batch, max_positions_, heads, head_dim}, dtype);
    b.values = Tensor::zeros({batch, max_positions_, heads, head_dim}, dtype);
  }
  LOOM_CHECK(
      b.keys.size(0) == batch && b.keys.size(2) == heads && b.keys.size(3) == head_dim && b.keys.dtype() == dtype,
      "decoding: the cache holds ", dtype_name(b.keys.dtype()), " ", shape_str(b.keys.shape()),
      " for this layer but the forward gives batch ", batch, ", ", heads, " heads of ", head_dim, " (",
      dtype_name(dtype), "); reset() the cache between prompts of other shapes");
  // [b, max, h, d] seen as [b, h, positions, d]: the kernel's layout, no copy.
  auto view = [&](const Tensor& t, int64_t from, int64_t n) {
    const int64_t row = heads * head_dim;
    return t.as_strided({batch, heads, n, head_dim}, {max_positions_ * row, head_dim, row, 1}, from * row);
  };
  return {view(b.keys, 0, length), view(b.values, 0, length), view(b.keys, position_, new_positions),
          view(b.values, position_, new_positions)};
}

DecodeCache* current_decode_cache() { return t_current; }

DecodeScope::DecodeScope(DecodeCache& cache) : previous_(t_current) { t_current = &cache; }
DecodeScope::~DecodeScope() { t_current = previous_; }

}  // namespace loom::nn
