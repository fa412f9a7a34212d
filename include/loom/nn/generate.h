#pragma once
// Sampling a sequence from a language model (logits [batch, time, vocab] for
// [batch, time] i64 tokens), one token at a time.
//
//   loom::nn::GenerateOptions o{.tokens = 200, .temperature = 0.8, .top_k = 40, .seed = 7};
//   std::vector<int64_t> out = loom::nn::generate(*model, 64, prompt_tokens, o);
//
// With the cache (the default) the prompt runs once and every further token costs
// one position (NOTE [Incremental decoding] in loom/nn/decode.h); without it every
// token re-runs the model over the last `context` tokens. Both give the same tokens
// for the same seed while the text fits in the context. Past the context, the
// cached path starts again from the last context / 2 tokens (a sliding window in
// half-context hops) and the uncached one slides by one token, so they differ there.
#include <cstdint>
#include <vector>

#include "loom/nn/module.h"

namespace loom::nn {

struct GenerateOptions {
  int64_t tokens = 100;      // new tokens to sample
  double temperature = 1.0;  // logits / temperature; 0 picks the most likely token
  int64_t top_k = 0;         // > 0: sample among the k most likely tokens only
  uint64_t seed = 1;         // the sampler's generator
  bool use_cache = true;     // the KV cache
};

struct GenerateStats {
  double prompt_seconds = 0;  // the prompt's forward (with the cache)
  double token_seconds = 0;   // the sampled tokens' forwards and sampling
  int64_t tokens = 0;
  double seconds_per_token() const { return tokens ? token_seconds / static_cast<double>(tokens) : 0.0; }
};

// The prompt followed by the sampled tokens. ValueError for an empty prompt, a
// token outside the model's vocabulary, or bad options.
std::vector<int64_t> generate(Module& model, int64_t context, const std::vector<int64_t>& prompt,
                              const GenerateOptions& options, GenerateStats* stats = nullptr);

// The next token from one row of logits, as generate() draws it.
int64_t sample_token(const float* logits, int64_t vocab, double temperature, int64_t top_k, Generator& gen);

}  // namespace loom::nn
