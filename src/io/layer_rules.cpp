#include "layer_rules.h"

#include <algorithm>

#include "loom/autograd/op_schema.h"
#include "loom/core/error.h"
#include "loom/nn/activation.h"
#include "loom/nn/conv.h"
#include "loom/nn/dropout.h"
#include "loom/nn/init.h"
#include "loom/nn/linear.h"
#include "loom/nn/merge.h"
#include "loom/nn/normalization.h"
#include "loom/nn/transformer.h"

namespace loom::io::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kMany = std::numeric_limits<size_t>::max();

template <typename... Args>
[[noreturn]] void fail(const LayerContext& ctx, const Args&... args) {
  LOOM_THROW(ValueError, ctx.source, ": layer ", ctx.index, " (", ctx.type, ") ", args...);
}

// ---- shape rules ------------------------------------------------------------------------
// The rules below give a model file's errors in its own terms (layer index, sample
// shapes without the batch axis, hints), then take the output shape from the op's
// own shape rule (NOTE [Op schema]), so a layer and its op cannot disagree.

using autograd::AttrMap;
using autograd::OpId;
using autograd::TensorMeta;

// A sample shape with a batch axis of 1, as an op's input.
TensorMeta batched(const Shape& sample) {
  Shape s{1};
  s.insert(s.end(), sample.begin(), sample.end());
  return {s, DType::f32};
}

// The op's output shape for batched inputs, less the batch axis; `on_error` fails
// with the layer's message when the op rejects the inputs.
template <typename OnError>
Shape op_rule(OpId op, const std::vector<TensorMeta>& inputs, const AttrMap& attrs, OnError&& on_error) {
  Shape out;
  try {
    out = autograd::infer_meta(op, inputs, attrs).shape;
  } catch (const ValueError&) {
    on_error();
  }
  return Shape(out.begin() + 1, out.end());
}

Shape infer_same(const LayerSpec&, const Shape& in, const LayerContext&) { return in; }

Shape infer_linear(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  const int64_t want = spec.get("in");
  if (in.empty())
    fail(ctx, "expects ", want, " input features but ", ctx.previous, " a scalar per sample");
  if (in.back() != want) {
    std::string hint;
    if (in.size() > 1 && shape_numel(in) == want)
      hint = "; add {\"type\": \"flatten\"} before it";
    fail(ctx, "expects ", want, " input features but ", ctx.previous, " ", in.back(), " (shape ", shape_str(in), ")",
         hint);
  }
  return op_rule(OpId::linear, {batched(in), {{spec.get("out"), want}, DType::f32}}, {},
                 [&] { fail(ctx, "cannot be applied to ", ctx.previous, " shape ", shape_str(in)); });
}

// conv2d's and the pools' window rule is the op's; a conv's weight is [out, in, k, k].
Shape infer_window(const LayerSpec& spec, const Shape& in, const LayerContext& ctx, OpId op, int64_t channels_out) {
  const int64_t k = spec.get("kernel"), s = spec.get("stride"), p = spec.get("padding");
  if (in.size() != 3) {
    fail(ctx, "expects a [channels, height, width] input but ", ctx.previous, " shape ", shape_str(in));
  }
  if (2 * p > k)
    fail(ctx, "has padding ", p, ", more than half its kernel size ", k);
  std::vector<TensorMeta> inputs{batched(in)};
  AttrMap attrs;
  if (op == OpId::conv2d) {
    inputs.push_back({{channels_out, in[0], k, k}, DType::f32});
    for (const char* name : {"stride_h", "stride_w"})
      attrs.set(name, s);
  } else {
    for (const char* name : {"kernel_h", "kernel_w"})
      attrs.set(name, k);
    for (const char* name : {"stride_h", "stride_w"})
      attrs.set(name, s);
  }
  for (const char* name : {"pad_h", "pad_w"})
    attrs.set(name, p);
  return op_rule(op, inputs, attrs, [&] {
    fail(ctx, "has a ", k, "x", k, " window (padding ", p, ") that does not fit the ", in[1], "x", in[2],
         " input (shape ", shape_str(in), ")");
  });
}

Shape infer_conv2d(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  if (in.size() == 3 && in[0] != spec.get("in")) {
    fail(ctx, "expects ", spec.get("in"), " input channels but ", ctx.previous, " ", in[0], " (shape ", shape_str(in),
         ")");
  }
  return infer_window(spec, in, ctx, OpId::conv2d, spec.get("out"));
}

Shape infer_max_pool(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  return infer_window(spec, in, ctx, OpId::max_pool2d, 0);
}
Shape infer_avg_pool(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  return infer_window(spec, in, ctx, OpId::avg_pool2d, 0);
}

Shape infer_batchnorm(const LayerSpec& spec, const Shape& in, const LayerContext& ctx, size_t rank_lo, size_t rank_hi,
                      const char* expected) {
  if (in.size() < rank_lo || in.size() > rank_hi) {
    fail(ctx, "expects a ", expected, " input but ", ctx.previous, " shape ", shape_str(in));
  }
  if (in[0] != spec.get("features")) {
    fail(ctx, "expects ", spec.get("features"), " features (channels) but ", ctx.previous, " ", in[0], " (shape ",
         shape_str(in), ")");
  }
  return in;
}
Shape infer_batchnorm1d(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  return infer_batchnorm(spec, in, ctx, 1, 2, "[features] or [features, length]");
}
Shape infer_batchnorm2d(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  return infer_batchnorm(spec, in, ctx, 3, 3, "[channels, height, width]");
}

Shape infer_layernorm(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  const Shape& norm = spec.shape;
  bool ok = in.size() >= norm.size() && std::equal(norm.begin(), norm.end(), in.end() - norm.size());
  if (!ok) {
    fail(ctx, "normalises trailing axes ", shape_str(norm), " but ", ctx.previous, " shape ", shape_str(in));
  }
  return in;
}

Shape infer_flatten(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  // start/end count the batch axis, as nn.Flatten's do; in has none.
  const int64_t ndim = static_cast<int64_t>(in.size()) + 1;
  int64_t start = spec.get("start"), end = spec.get("end");
  if (start < -ndim || start >= ndim || end < -ndim || end >= ndim) {
    fail(ctx, "has axes start=", start, ", end=", end, " outside a ", ndim, "-d batched input (sample shape ",
         shape_str(in), ")");
  }
  start = start < 0 ? start + ndim : start;
  end = end < 0 ? end + ndim : end;
  if (start == 0)
    fail(ctx, "would merge the batch axis (start=0); use start=1 or more");
  if (start > end)
    fail(ctx, "has start=", start, " after end=", end);
  Shape out(in.begin(), in.begin() + (start - 1));
  int64_t merged = 1;
  for (int64_t a = start; a <= end; ++a)
    merged *= in[static_cast<size_t>(a - 1)];
  out.push_back(merged);
  out.insert(out.end(), in.begin() + end, in.end());
  return out;
}

Shape infer_embedding(const LayerSpec& spec, const Shape& in, const LayerContext&) {
  Shape out = in;
  out.push_back(spec.get("dim"));
  return out;
}

Shape infer_position_embedding(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  const int64_t context = spec.get("context"), dim = spec.get("dim");
  if (in.size() != 2 || in[1] != dim)
    fail(ctx, "expects [time, ", dim, "] but ", ctx.previous, " shape ", shape_str(in));
  if (in[0] > context)
    fail(ctx, "has ", context, " positions but ", ctx.previous, " ", in[0], " (shape ", shape_str(in), ")");
  return in;
}

// The fused op's own rule on [1, heads, time, width / heads] heads.
Shape infer_attention(const LayerSpec& spec, const Shape& in, const LayerContext& ctx) {
  const int64_t width = spec.get("width"), heads = spec.get("heads");
  if (width % heads != 0)
    fail(ctx, "has width ", width, ", not a multiple of its ", heads, " heads");
  if (in.size() != 2 || in[1] != width)
    fail(ctx, "expects [time, ", width, "] but ", ctx.previous, " shape ", shape_str(in));
  const TensorMeta head{{1, heads, in[0], width / heads}, DType::f32};
  op_rule(OpId::scaled_dot_product_attention, {head, head, head}, {},
          [&] { fail(ctx, "cannot attend over ", ctx.previous, " shape ", shape_str(in)); });
  return in;
}

// Merge layers: every input's shape, for messages.
std::string shapes_str(const std::vector<Shape>& in) {
  std::string out;
  for (const Shape& s : in)
    out += (out.empty() ? "" : ", ") + shape_str(s);
  return out;
}

// add and mul fold their inputs left to right, each step the binary op's rule.
Shape infer_broadcast(const LayerSpec&, const std::vector<Shape>& in, const LayerContext& ctx) {
  Shape out = in[0];
  for (size_t i = 1; i < in.size(); ++i) {
    // Batched at the same rank, so the batch axis lines up however the ranks differ.
    const size_t rank = std::max(out.size(), in[i].size());
    auto lift = [&](const Shape& s) {
      Shape r(rank - s.size(), 1);
      r.insert(r.end(), s.begin(), s.end());
      return batched(r);
    };
    out = op_rule(OpId::add, {lift(out), lift(in[i])}, {},
                  [&] { fail(ctx, "cannot broadcast its inputs' shapes ", shapes_str(in), " (per sample) together"); });
  }
  return out;
}

Shape infer_concat(const LayerSpec& spec, const std::vector<Shape>& in, const LayerContext& ctx) {
  // axis counts the batch axis, as torch.cat's dim does; in has none.
  const int64_t ndim = static_cast<int64_t>(in[0].size()) + 1;
  int64_t axis = spec.get("axis");
  if (axis < -ndim || axis >= ndim)
    fail(ctx, "has axis ", axis, " outside a ", ndim, "-d batched input (sample shapes ", shapes_str(in), ")");
  axis = axis < 0 ? axis + ndim : axis;
  if (axis == 0)
    fail(ctx, "would join along the batch axis (axis=0); use axis=1 or more");
  std::vector<TensorMeta> inputs;
  for (const Shape& s : in)
    inputs.push_back(batched(s));
  AttrMap attrs;
  attrs.set("axis", axis);
  return op_rule(OpId::concat, inputs, attrs, [&] {
    fail(ctx, "joins along axis ", axis, " inputs whose other axes differ (sample shapes ", shapes_str(in), ")");
  });
}

// A one-input rule as a rule over the input list (the parser checked there is one).
template <Shape (*F)(const LayerSpec&, const Shape&, const LayerContext&)>
Shape one(const LayerSpec& spec, const std::vector<Shape>& in, const LayerContext& ctx) {
  return F(spec, in[0], ctx);
}

// ---- costs ------------------------------------------------------------------------------

// NOTE [Layer costs]
// FLOPs of one forward pass for one sample, counting a multiply-add as two (the
// convention of PyTorch's and fvcore's FLOP counters times two):
//   linear        rows * (2 * in * out + out if bias)      rows = output elements / out
//   conv2d        oh * ow * out * (2 * in * k * k + 1 if bias)
//   pools         output elements * k * k                  (a compare or an add per window element)
//   batchnorm*,   5 per element (mean, variance, subtract, scale, shift)
//   layernorm
//   activations,  1 per element
//   dropout
//   add, mul      (inputs - 1) per output element
//   flatten, concat, embedding   0 (data movement only)
//   position_embedding  1 per element (the add)
//   attention     t * (2 * w * 3w + 2 * w * w) for the projections (+ 4w if bias)
//                 + 4 * t * t * w for scores and the weighted sum (every key, as if not causal)
// Parameters are the weights and biases that the layer registers (batch norm's
// running statistics are buffers, not parameters).
LayerCost cost_none(const LayerSpec&, const std::vector<Shape>&, const Shape&) { return {}; }
LayerCost cost_elementwise(const LayerSpec&, const std::vector<Shape>&, const Shape& out) {
  return {0, shape_numel(out)};
}
LayerCost cost_merge(const LayerSpec&, const std::vector<Shape>& in, const Shape& out) {
  return {0, static_cast<int64_t>(in.size() - 1) * shape_numel(out)};
}
LayerCost cost_linear(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  const int64_t in = s.get("in"), o = s.get("out"), bias = s.get("bias");
  const int64_t rows = shape_numel(out) / o;
  return {in * o + bias * o, rows * (2 * in * o + bias * o)};
}
LayerCost cost_conv2d(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  const int64_t in = s.get("in"), o = s.get("out"), k = s.get("kernel"), bias = s.get("bias");
  return {o * in * k * k + bias * o, out[1] * out[2] * o * (2 * in * k * k + bias)};
}
LayerCost cost_pool(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  return {0, shape_numel(out) * s.get("kernel") * s.get("kernel")};
}
LayerCost cost_batchnorm(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  return {2 * s.get("features"), 5 * shape_numel(out)};
}
LayerCost cost_layernorm(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  return {2 * shape_numel(s.shape), 5 * shape_numel(out)};
}
LayerCost cost_embedding(const LayerSpec& s, const std::vector<Shape>&, const Shape&) {
  return {s.get("num") * s.get("dim"), 0};
}
LayerCost cost_position_embedding(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  return {s.get("context") * s.get("dim"), shape_numel(out)};
}
LayerCost cost_attention(const LayerSpec& s, const std::vector<Shape>&, const Shape& out) {
  const int64_t w = s.get("width"), t = out[0], bias = s.get("bias");
  return {4 * w * w + bias * 4 * w, t * (8 * w * w + bias * 4 * w) + 4 * t * t * w};
}

// ---- builders ---------------------------------------------------------------------------

template <typename M>
std::shared_ptr<nn::Module> build_plain(const LayerSpec&, Generator&) {
  return std::make_shared<M>();
}
std::shared_ptr<nn::Module> build_linear(const LayerSpec& s, Generator& gen) {
  auto layer = std::make_shared<nn::Linear>(s.get("in"), s.get("out"), s.get("bias") != 0, gen);
  if (s.params.at("init_std") > 0)
    nn::init_normal(*layer, s.params.at("init_std"), gen);
  return layer;
}
std::shared_ptr<nn::Module> build_conv2d(const LayerSpec& s, Generator& gen) {
  return std::make_shared<nn::Conv2d>(s.get("in"), s.get("out"), s.get("kernel"), s.get("stride"), s.get("padding"),
                                      s.get("bias") != 0, gen);
}
std::shared_ptr<nn::Module> build_maxpool2d(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::MaxPool2d>(s.get("kernel"), s.get("stride"), s.get("padding"));
}
std::shared_ptr<nn::Module> build_avgpool2d(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::AvgPool2d>(s.get("kernel"), s.get("stride"), s.get("padding"));
}
std::shared_ptr<nn::Module> build_batchnorm1d(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::BatchNorm1d>(s.get("features"), s.params.at("eps"), s.params.at("momentum"));
}
std::shared_ptr<nn::Module> build_batchnorm2d(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::BatchNorm2d>(s.get("features"), s.params.at("eps"), s.params.at("momentum"));
}
std::shared_ptr<nn::Module> build_layernorm(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::LayerNorm>(s.shape, s.params.at("eps"));
}
std::shared_ptr<nn::Module> build_dropout(const LayerSpec& s, Generator&) {
  // Dropout keeps a pointer to its generator; only the process-wide one is sure to outlive the model.
  return std::make_shared<nn::Dropout>(s.params.at("p"), default_generator());
}
std::shared_ptr<nn::Module> build_flatten(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::Flatten>(s.get("start"), s.get("end"));
}
std::shared_ptr<nn::Module> build_concat(const LayerSpec& s, Generator&) {
  return std::make_shared<nn::Concat>(s.get("axis"));
}
std::shared_ptr<nn::Module> build_embedding(const LayerSpec& s, Generator& gen) {
  auto layer = std::make_shared<nn::Embedding>(s.get("num"), s.get("dim"), gen);
  if (s.params.at("init_std") > 0)
    nn::init::normal_(layer->weight(), 0.0, s.params.at("init_std"), gen);
  return layer;
}
std::shared_ptr<nn::Module> build_position_embedding(const LayerSpec& s, Generator& gen) {
  return std::make_shared<nn::PositionEmbedding>(s.get("context"), s.get("dim"), s.params.at("init_std"), gen);
}
std::shared_ptr<nn::Module> build_attention(const LayerSpec& s, Generator& gen) {
  nn::SelfAttention::Options o;
  o.causal = s.get("causal") != 0;
  o.bias = s.get("bias") != 0;
  o.init_std = s.params.at("init_std");
  return std::make_shared<nn::SelfAttention>(s.get("width"), s.get("heads"), o, gen);
}

using K = FieldKind;
const FieldRule kBias{"bias", K::boolean, false, 1};
const FieldRule kEps{"eps", K::real, false, 1e-5, 0, kInf};
const FieldRule kInitStd{"init_std", K::real, false, 0, 0, kInf};

// For pools, a stride of 0 stands for "the kernel size" (filled in by the parser).
const std::vector<LayerRule>& rules() {
  static const std::vector<LayerRule> table = {
      {"linear",
       {{"in", K::integer, true, 0, 1}, {"out", K::integer, true, 0, 1}, kBias, kInitStd},
       one<infer_linear>,
       build_linear,
       1,
       1,
       cost_linear},
      {"conv2d",
       {{"in", K::integer, true, 0, 1},
        {"out", K::integer, true, 0, 1},
        {"kernel", K::integer, true, 0, 1},
        {"stride", K::integer, false, 1, 1},
        {"padding", K::integer, false, 0, 0},
        kBias},
       one<infer_conv2d>,
       build_conv2d,
       1,
       1,
       cost_conv2d},
      {"maxpool2d",
       {{"kernel", K::integer, true, 0, 1}, {"stride", K::integer, false, 0, 1}, {"padding", K::integer, false, 0, 0}},
       one<infer_max_pool>,
       build_maxpool2d,
       1,
       1,
       cost_pool},
      {"avgpool2d",
       {{"kernel", K::integer, true, 0, 1}, {"stride", K::integer, false, 0, 1}, {"padding", K::integer, false, 0, 0}},
       one<infer_avg_pool>,
       build_avgpool2d,
       1,
       1,
       cost_pool},
      {"batchnorm1d",
       {{"features", K::integer, true, 0, 1}, kEps, {"momentum", K::real, false, 0.1, 0, 1}},
       one<infer_batchnorm1d>,
       build_batchnorm1d,
       1,
       1,
       cost_batchnorm},
      {"batchnorm2d",
       {{"features", K::integer, true, 0, 1}, kEps, {"momentum", K::real, false, 0.1, 0, 1}},
       one<infer_batchnorm2d>,
       build_batchnorm2d,
       1,
       1,
       cost_batchnorm},
      {"layernorm", {{"shape", K::shape, true}, kEps}, one<infer_layernorm>, build_layernorm, 1, 1, cost_layernorm},
      {"dropout", {{"p", K::real, false, 0.5, 0, 1}}, one<infer_same>, build_dropout, 1, 1, cost_elementwise},
      {"relu", {}, one<infer_same>, build_plain<nn::ReLU>, 1, 1, cost_elementwise},
      {"gelu", {}, one<infer_same>, build_plain<nn::GELU>, 1, 1, cost_elementwise},
      {"tanh", {}, one<infer_same>, build_plain<nn::Tanh>, 1, 1, cost_elementwise},
      {"sigmoid", {}, one<infer_same>, build_plain<nn::Sigmoid>, 1, 1, cost_elementwise},
      {"flatten",
       {{"start", K::integer, false, 1}, {"end", K::integer, false, -1}},
       one<infer_flatten>,
       build_flatten,
       1,
       1,
       cost_none},
      {"embedding",
       {{"num", K::integer, true, 0, 1}, {"dim", K::integer, true, 0, 1}, kInitStd},
       one<infer_embedding>,
       build_embedding,
       1,
       1,
       cost_embedding},
      {"position_embedding",
       {{"context", K::integer, true, 0, 1},
        {"dim", K::integer, true, 0, 1},
        {"init_std", K::real, false, 0.02, 0, kInf}},
       one<infer_position_embedding>,
       build_position_embedding,
       1,
       1,
       cost_position_embedding},
      {"attention",
       {{"width", K::integer, true, 0, 1},
        {"heads", K::integer, true, 0, 1},
        {"causal", K::boolean, false, 1},
        kBias,
        kInitStd},
       one<infer_attention>,
       build_attention,
       1,
       1,
       cost_attention},
      {"add", {}, infer_broadcast, build_plain<nn::Add>, 2, kMany, cost_merge},
      {"mul", {}, infer_broadcast, build_plain<nn::Mul>, 2, kMany, cost_merge},
      {"concat", {{"axis", K::integer, false, 1}}, infer_concat, build_concat, 2, kMany, cost_none},
  };
  return table;
}

}  // namespace

const LayerRule* find_layer_rule(const std::string& type) {
  for (const LayerRule& r : rules())
    if (type == r.type)
      return &r;
  return nullptr;
}

std::string layer_type_list() {
  std::string out;
  for (const LayerRule& r : rules())
    out += (out.empty() ? "" : ", ") + std::string(r.type);
  return out;
}

}  // namespace loom::io::detail
