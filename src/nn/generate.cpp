#include "loom/nn/generate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "loom/autograd/grad_mode.h"
#include "loom/core/generator.h"
#include "loom/nn/decode.h"

namespace loom::nn {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The logits of the last position of a [1, time] forward.
std::vector<float> last_logits(Module& model, const std::vector<int64_t>& tokens) {
  const auto t = static_cast<int64_t>(tokens.size());
  const Tensor logits = model.forward(Tensor::from_vector<int64_t>(tokens, {1, t}));
  LOOM_CHECK(logits.dim() == 3 && logits.size(0) == 1 && logits.size(1) == t, "generate: the model gave ",
             shape_str(logits.shape()), " for [1, ", t, "] tokens; expected [1, ", t, ", vocab] logits");
  const int64_t vocab = logits.size(2);
  const Tensor row = logits.as_strided({vocab}, {logits.strides()[2]}, logits.offset() + (t - 1) * logits.strides()[1]);
  return row.to(DType::f32).contiguous().to_vector<float>();
}

}  // namespace

int64_t sample_token(const float* logits, int64_t vocab, double temperature, int64_t top_k, Generator& gen) {
  LOOM_CHECK(vocab > 0, "sample_token: empty vocabulary");
  if (temperature == 0)
    return std::max_element(logits, logits + vocab) - logits;
  std::vector<int64_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = top_k > 0 ? std::min(top_k, vocab) : vocab;
  // Highest first; ties by index, so the draw does not depend on the sort.
  std::partial_sort(order.begin(), order.begin() + keep, order.end(),
                    [&](int64_t a, int64_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); });
  const double top = logits[order[0]] / temperature;
  std::vector<double> weight(static_cast<size_t>(keep));
  double total = 0;
  for (int64_t i = 0; i < keep; ++i)
    total += weight[i] = std::exp(logits[order[i]] / temperature - top);
  double u = gen.uniform() * total;
  for (int64_t i = 0; i < keep; ++i) {
    u -= weight[i];
    if (u < 0)
      return order[i];
  }
  return order[keep - 1];
}

std::vector<int64_t> generate(Module& model, int64_t context, const std::vector<int64_t>& prompt,
                              const GenerateOptions& o, GenerateStats* stats) {
  LOOM_CHECK(!prompt.empty(), "generate: the prompt is empty; give at least one token");
  LOOM_CHECK(context > 0, "generate: the context must be positive, got ", context);
  LOOM_CHECK(o.tokens >= 0 && o.temperature >= 0 && std::isfinite(o.temperature) && o.top_k >= 0,
             "generate: tokens, temperature and top_k must be >= 0, got ", o.tokens, ", ", o.temperature, ", ",
             o.top_k);
  autograd::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Generator gen(o.seed);
  std::vector<int64_t> out = prompt;
  GenerateStats local;
  auto window = [&](int64_t n) {
    return std::vector<int64_t>(out.end() - std::min<int64_t>(n, static_cast<int64_t>(out.size())), out.end());
  };
  DecodeCache cache(context);
  std::unique_ptr<DecodeScope> scope;
  if (o.use_cache)
    scope = std::make_unique<DecodeScope>(cache);
  const auto t_prompt = Clock::now();
  std::vector<float> logits;
  if (o.use_cache) {
    const std::vector<int64_t> first = window(context);
    logits = last_logits(model, first);
    cache.advance(static_cast<int64_t>(first.size()));
  } else {
    logits = last_logits(model, window(context));
  }
  local.prompt_seconds = seconds_since(t_prompt);
  const auto t_tokens = Clock::now();
  const auto vocab = static_cast<int64_t>(logits.size());
  for (int64_t i = 0; i < o.tokens; ++i) {
    out.push_back(sample_token(logits.data(), vocab, o.temperature, o.top_k, gen));
    if (i + 1 == o.tokens)
      break;
    if (!o.use_cache) {
      logits = last_logits(model, window(context));
      continue;
    }
    if (cache.position() == context) {  // full: start again from the last half context
      cache.reset();
      const std::vector<int64_t> again = window(std::max<int64_t>(1, context / 2));
      logits = last_logits(model, again);
      cache.advance(static_cast<int64_t>(again.size()));
    } else {
      logits = last_logits(model, {out.back()});
      cache.advance(1);
    }
  }
  local.token_seconds = seconds_since(t_tokens);
  local.tokens = o.tokens;
  model.train(was_training);
  if (stats)
    *stats = local;
  return out;
}

}  // namespace loom::nn
