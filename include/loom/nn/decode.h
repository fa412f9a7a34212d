#pragma once
// NOTE [Incremental decoding]
// Generating text one token at a time re-runs the model on the new token only:
// each attention layer keeps the keys and values of the positions already seen
// (a KV cache) and the position embedding starts at the next position. The cache
// lives in a DecodeCache that a DecodeScope makes current on the calling thread,
// so the modules themselves stay stateless and one model can decode on many
// threads at once, each with its own cache:
//
//   loom::nn::DecodeCache cache(context);
//   loom::nn::DecodeScope scope(cache);
//   Tensor logits = model->forward(prompt);   // fills the cache, [1, t, vocab]
//   cache.advance(prompt.size(1));
//   logits = model->forward(next_token);      // one position: [1, 1, vocab]
//   cache.advance(1);
#include <cstdint>
#include <map>

#include "loom/core/tensor.h"

namespace loom::nn {

class Module;

class DecodeCache {
 public:
  explicit DecodeCache(int64_t max_positions);
  int64_t max_positions() const { return max_positions_; }
  // Positions already in the cache: where the next forward's tokens start.
  int64_t position() const { return position_; }
  // After a forward over n new positions. ValueError past max_positions.
  void advance(int64_t n);
  void reset();

  // One attention layer's keys and values for every position so far plus the
  // `new_positions` being added, as [b, heads, position() + new_positions, d]
  // views of buffers allocated on first use; the layer writes the new rows.
  struct KeysValues {
    Tensor keys, values;          // every position, the new ones included
    Tensor new_keys, new_values;  // the rows the layer fills
  };
  KeysValues extend(const Module* layer, int64_t batch, int64_t heads, int64_t head_dim, int64_t new_positions,
                    DType dtype);

 private:
  struct Buffers {
    Tensor keys, values;  // [b, max_positions, heads, d]
  };
  int64_t max_positions_;
  int64_t position_ = 0;
  std::map<const Module*, Buffers> layers_;
};

// The calling thread's current cache (null when not decoding).
DecodeCache* current_decode_cache();

// Makes `cache` current on this thread for the scope (nesting restores the outer one).
class DecodeScope {
 public:
  explicit DecodeScope(DecodeCache& cache);
  ~DecodeScope();
  DecodeScope(const DecodeScope&) = delete;
  DecodeScope& operator=(const DecodeScope&) = delete;

 private:
  DecodeCache* previous_;
};

}  // namespace loom::nn
