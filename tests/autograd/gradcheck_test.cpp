// Finite-difference gradient check for every differentiable op in the op table
// (NOTE [Op table]). A new op without a case here fails EveryOpHasAGradcheck.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "loom/autograd.h"
#include "loom/autograd/op_schema.h"
#include "loom/autograd/tracer.h"
#include "loom/distributed/collective_ops.h"
#include "loom/runtime/parallel.h"

namespace loom {
namespace {

using autograd::OpId;
using Inputs = std::vector<Tensor>;
using Fn = std::function<Tensor(const Inputs&)>;

struct Case {
  std::vector<Shape> shapes;  // random f64 inputs requiring grad
  Fn fn;
  double low = -1.0, high = 1.0;  // input range
};

const std::shared_ptr<distributed::Communicator>& solo() {
  static const auto group = distributed::self_communicator();
  return group;
}

Tensor labels() { return Tensor::from_vector<int64_t>({2, 0, 1}, {3}); }

std::map<OpId, Case> cases() {
  std::map<OpId, Case> c;
  c[OpId::add] = {{{2, 3}, {3}}, [](const Inputs& x) { return add(x[0], x[1]); }};
  c[OpId::sub] = {{{2, 1, 3}, {4, 1}}, [](const Inputs& x) { return sub(x[0], x[1]); }};
  c[OpId::mul] = {{{2, 3}, {2, 1}}, [](const Inputs& x) { return mul(x[0], x[1]); }};
  c[OpId::div] = {{{2, 3}, {3}}, [](const Inputs& x) { return div(x[0], x[1]); }, 0.5, 2.0};
  c[OpId::neg] = {{{4}}, [](const Inputs& x) { return neg(x[0]); }};
  c[OpId::add_scalar] = {{{4}}, [](const Inputs& x) { return add_scalar(x[0], 3.0); }};
  c[OpId::mul_scalar] = {{{4}}, [](const Inputs& x) { return mul_scalar(x[0], -2.5); }};
  c[OpId::pow_scalar] = {{{5}}, [](const Inputs& x) { return pow_scalar(x[0], 1.7); }, 0.5, 2.0};
  c[OpId::maximum] = {{{3, 4}, {4}}, [](const Inputs& x) { return maximum(x[0], x[1]); }};
  c[OpId::matmul] = {{{2, 3, 4}, {4, 5}}, [](const Inputs& x) { return matmul(x[0], x[1]); }};
  c[OpId::linear] = {{{2, 3, 4}, {5, 4}, {5}}, [](const Inputs& x) { return linear(x[0], x[1], x[2]); }};
  c[OpId::relu] = {{{10}}, [](const Inputs& x) { return relu(x[0]); }};
  c[OpId::gelu] = {{{10}}, [](const Inputs& x) { return gelu(x[0]); }, -3.0, 3.0};
  c[OpId::tanh] = {{{10}}, [](const Inputs& x) { return tanh(x[0]); }};
  c[OpId::sigmoid] = {{{10}}, [](const Inputs& x) { return sigmoid(x[0]); }};
  c[OpId::exp] = {{{10}}, [](const Inputs& x) { return exp(x[0]); }};
  c[OpId::log] = {{{10}}, [](const Inputs& x) { return log(x[0]); }, 0.5, 3.0};
  c[OpId::sqrt] = {{{10}}, [](const Inputs& x) { return sqrt(x[0]); }, 0.5, 3.0};
  c[OpId::abs] = {{{10}}, [](const Inputs& x) { return abs(x[0]); }};
  c[OpId::sum] = {{{2, 3, 4}}, [](const Inputs& x) { return sum(x[0], {0, 2}); }};
  c[OpId::mean] = {{{2, 3, 4}}, [](const Inputs& x) { return mean(x[0], {1}, true); }};
  c[OpId::amax] = {{{3, 5}}, [](const Inputs& x) { return amax(x[0], 1); }};
  c[OpId::softmax] = {{{2, 3, 4}}, [](const Inputs& x) { return softmax(x[0], 1); }};
  c[OpId::log_softmax] = {{{3, 5}}, [](const Inputs& x) { return log_softmax(x[0], -1); }};
  c[OpId::nll_loss] = {{{3, 4}}, [](const Inputs& x) { return nll_loss(log_softmax(x[0]), labels()); }};
  c[OpId::cross_entropy] = {{{3, 4}}, [](const Inputs& x) { return cross_entropy(x[0], labels()); }};
  c[OpId::mse_loss] = {{{3, 4}, {3, 4}}, [](const Inputs& x) { return mse_loss(x[0], x[1]); }};
  c[OpId::conv2d] = {{{2, 3, 5, 6}, {4, 3, 3, 2}, {4}}, [](const Inputs& x) {
                       return conv2d(x[0], x[1], x[2], {.stride_h = 2, .stride_w = 1, .pad_h = 1, .pad_w = 1});
                     }};
  c[OpId::conv2d_max_pool2d] = {{{3, 2, 6, 5}, {3, 2, 3, 3}, {3}}, [](const Inputs& x) {
                                  return conv2d_max_pool2d(x[0], x[1], x[2], {.pad_h = 1, .pad_w = 1},
                                                           {.kernel_h = 2, .kernel_w = 2});
                                }};
  c[OpId::max_pool2d] = {
      {{2, 2, 5, 5}}, [](const Inputs& x) {
        return max_pool2d(x[0], {.kernel_h = 3, .kernel_w = 2, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1});
      }};
  c[OpId::avg_pool2d] = {
      {{2, 2, 5, 4}}, [](const Inputs& x) {
        return avg_pool2d(x[0], {.kernel_h = 2, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1});
      }};
  c[OpId::batch_norm] = {{{4, 3, 2, 2}, {3}, {3}}, [](const Inputs& x) {
                           Tensor rm = Tensor::zeros({3}, DType::f64), rv = Tensor::ones({3}, DType::f64);
                           return batch_norm(x[0], x[1], x[2], rm, rv, true);
                         }};
  c[OpId::layer_norm] = {{{3, 2, 4}, {2, 4}, {2, 4}}, [](const Inputs& x) { return layer_norm(x[0], 2, x[1], x[2]); }};
  c[OpId::dropout] = {{{20}}, [](const Inputs& x) {
                        Generator g(7);  // the same mask on every evaluation
                        return dropout(x[0], 0.3, true, g);
                      }};
  c[OpId::embedding] = {{{5, 3}}, [](const Inputs& x) {
                          return embedding(Tensor::from_vector<int64_t>({4, 0, 4, 2}, {2, 2}), x[0]);
                        }};
  c[OpId::reshape] = {{{2, 6}}, [](const Inputs& x) { return reshape(transpose(x[0], 0, 1), {3, 4}); }};
  c[OpId::flatten] = {{{2, 3, 4}}, [](const Inputs& x) { return flatten(x[0], 1); }};
  c[OpId::permute] = {{{2, 3, 4}}, [](const Inputs& x) { return permute(x[0], {2, 0, 1}); }};
  c[OpId::transpose] = {{{2, 3}}, [](const Inputs& x) { return transpose(x[0], 0, 1); }};
  c[OpId::slice] = {{{7, 3}}, [](const Inputs& x) { return slice(x[0], 0, 1, 6, 2); }};
  c[OpId::expand] = {{{3, 1}}, [](const Inputs& x) { return expand(x[0], {2, 3, 4}); }};
  c[OpId::squeeze] = {{{3, 1, 2}}, [](const Inputs& x) { return squeeze(x[0], 1); }};
  c[OpId::unsqueeze] = {{{3, 2}}, [](const Inputs& x) { return unsqueeze(x[0], 1); }};
  c[OpId::contiguous] = {{{3, 2}}, [](const Inputs& x) { return contiguous(transpose(x[0], 0, 1)); }};
  c[OpId::sum_to] = {{{2, 3, 4}}, [](const Inputs& x) { return sum_to(x[0], {3, 1}); }};
  c[OpId::linear_act] = {
      {{2, 3, 4}, {5, 4}, {5}}, [](const Inputs& x) {
        // relu, gelu and bias-only, summed so one case checks all three
        return add(add(linear_act(x[0], x[1], x[2], Activation::relu), linear_act(x[0], x[1], x[2], Activation::gelu)),
                   linear_act(x[0], x[1], Tensor(), Activation::none));
      }};
  c[OpId::concat] = {{{2, 3}, {2, 1}}, [](const Inputs& x) { return concat({x[0], x[1]}, 1); }};
  c[OpId::qkv_attention] = {{{2, 5, 12}}, [](const Inputs& x) { return qkv_attention(x[0], 2, true); }};
  // Causal with a mask and more keys than queries (a query block after a cache).
  c[OpId::scaled_dot_product_attention] = {
      {{2, 2, 3, 4}, {2, 2, 5, 4}, {2, 2, 5, 3}}, [](const Inputs& x) {
        Tensor mask = Tensor::from_vector<double>({0, -1, 0.5, 0, 0, 0, 0, -0.5, 0, 1, 0.3, 0, 0, 0, -2}, {3, 5});
        return scaled_dot_product_attention(x[0], x[1], x[2], mask, true);
      }};
  // The collectives over a group of one process; tests/distributed/collective_ops_mpi_test.cpp
  // checks them over several ranks.
  c[OpId::all_reduce] = {{{2, 3}}, [](const Inputs& x) { return distributed::all_reduce(mul(x[0], x[0]), solo()); }};
  c[OpId::all_gather] = {{{2, 3}}, [](const Inputs& x) { return distributed::all_gather(mul(x[0], x[0]), solo()); }};
  c[OpId::reduce_scatter] = {{{2, 3}},
                             [](const Inputs& x) { return distributed::reduce_scatter(mul(x[0], x[0]), solo()); }};
  auto send_then_recv = [](const Inputs& x) {
    Tensor token = distributed::send(x[0], solo(), 0, 3);
    return mul(distributed::recv(x[0].shape(), x[0].dtype(), solo(), 0, 3, token), x[0]);
  };
  c[OpId::send] = {{{2, 3}}, send_then_recv};
  c[OpId::recv] = {{{2, 3}}, send_then_recv};
  return c;
}

TEST(Gradcheck, EveryOpHasAGradcheck) {
  auto all = cases();
  for (size_t i = 0; i < autograd::kNumOps; ++i) {
    EXPECT_TRUE(all.count(static_cast<OpId>(i))) << "op '" << autograd::kOpNames[i] << "' has no gradcheck case";
  }
}

class OpGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(OpGradcheck, MatchesFiniteDifferences) {
  const OpId id = static_cast<OpId>(GetParam());
  auto all = cases();
  if (!all.count(id))
    GTEST_SKIP() << "no case (EveryOpHasAGradcheck fails for it)";
  const Case& c = all[id];
  Generator gen(42 + GetParam());
  Inputs inputs;
  for (const Shape& s : c.shapes) {
    inputs.push_back(gen.uniform_tensor(s, c.low, c.high, DType::f64).set_requires_grad(true));
  }
  auto r = autograd::gradcheck(c.fn, inputs);
  EXPECT_TRUE(r.ok) << autograd::op_name(id) << ": " << r.detail << " (max abs error " << r.max_abs_error << ")";
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradcheck, ::testing::Range<size_t>(0, autograd::kNumOps),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(autograd::kOpNames[info.param]);
                         });

// NOTE [Op schema]: for every op's case, the call the tracer saw has the op's
// id, the schema's shape rule gives the output's shape and dtype from the input
// metas, the attributes survive the trip through an AttrMap (replaying the call
// by name gives the same bits), and the same call on meta inputs gives the same
// meta without computing.
class OpSchemaRule : public ::testing::TestWithParam<size_t> {};

TEST_P(OpSchemaRule, InfersTheOutputAndReplaysFromItsAttributes) {
  const OpId id = static_cast<OpId>(GetParam());
  auto all = cases();
  if (!all.count(id))
    GTEST_SKIP() << "no case (EveryOpHasAGradcheck fails for it)";
  const Case& c = all[id];
  const autograd::OpSchema& schema = autograd::op_schema(id);
  EXPECT_EQ(schema.id, id);
  EXPECT_STREQ(schema.name, autograd::op_name(id));
  EXPECT_EQ(autograd::op_from_name(schema.name), id);
  Generator gen(42 + GetParam());
  Inputs inputs;
  for (const Shape& s : c.shapes)
    inputs.push_back(gen.uniform_tensor(s, c.low, c.high, DType::f64));
  std::optional<autograd::TracedCall> call;
  {
    autograd::TraceScope trace;
    c.fn(inputs);
    for (const auto& traced : trace.calls())
      if (traced.op == id)
        call = traced;  // the last call of this op
  }
  ASSERT_TRUE(call) << schema.name << " never reached the dispatch path as an outermost call";
  std::vector<autograd::TensorMeta> metas;
  std::vector<Tensor> meta_inputs;
  for (const Tensor& t : call->inputs) {
    metas.push_back(autograd::TensorMeta::of(t));
    meta_inputs.push_back(t.defined() ? Tensor::empty(t.shape(), t.dtype(), Device::meta()) : Tensor());
  }
  EXPECT_EQ(autograd::infer_meta(id, metas, call->attrs), autograd::TensorMeta::of(call->output))
      << schema.name << " with " << call->attrs.str();
  Tensor on_meta = autograd::run_op(id, meta_inputs, call->attrs);
  EXPECT_TRUE(on_meta.device().is_meta());
  EXPECT_EQ(on_meta.shape(), call->output.shape()) << schema.name;
  if (id == OpId::dropout || id == OpId::send || id == OpId::recv)
    return;  // dropout's mask comes from the caller's generator, a message from its sender: not attributes
  Tensor again = autograd::run_op(id, call->inputs, call->attrs);
  EXPECT_EQ(again.to_vector<double>(), call->output.to_vector<double>()) << schema.name << " replayed by name";
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpSchemaRule, ::testing::Range<size_t>(0, autograd::kNumOps),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return std::string(autograd::kOpNames[info.param]);
                         });

// The check itself must be able to fail: a deliberately wrong backward is caught.
TEST(Gradcheck, DetectsAWrongGradient) {
  Generator gen(1);
  Tensor x = gen.uniform_tensor({5}, -1, 1, DType::f64).set_requires_grad(true);
  // A function whose recorded backward doubles the true gradient.
  auto doubled = [](const Inputs& in) {
    Tensor y = in[0].detach().clone();
    return autograd::record(OpId::neg, y, {in[0]},
                            [](const Tensor& g) { return std::vector<Tensor>{mul_scalar(g, 2.0)}; });
  };
  EXPECT_FALSE(autograd::gradcheck(doubled, {x}).ok);
}

}  // namespace
}  // namespace loom

namespace loom {
namespace {

// Geometries that take the kernels' other branches: strided im2col/col2im
// columns, and the 2x2 max-pool fast path.
TEST(Gradcheck, ConvAndPoolFastPaths) {
  Generator gen(5);
  auto input = [&](const Shape& s) { return gen.uniform_tensor(s, -1, 1, DType::f64).set_requires_grad(true); };
  auto strided = [](const Inputs& x) {
    return conv2d(x[0], x[1], x[2], {.stride_h = 2, .stride_w = 3, .pad_h = 2, .pad_w = 1});
  };
  auto r = autograd::gradcheck(strided, {input({2, 2, 7, 8}), input({3, 2, 3, 3}), input({3})});
  EXPECT_TRUE(r.ok) << r.detail;
  auto pool = [](const Inputs& x) { return max_pool2d(x[0], {.kernel_h = 2, .kernel_w = 2}); };
  r = autograd::gradcheck(pool, {input({2, 3, 6, 4})});
  EXPECT_TRUE(r.ok) << r.detail;
  // conv2d_max_pool2d's fused ReLU (the op table's case has none).
  auto conv_pool_relu = [](const Inputs& x) {
    return conv2d_max_pool2d(x[0], x[1], x[2], {.pad_h = 1, .pad_w = 1}, {.kernel_h = 2, .kernel_w = 2},
                             Activation::relu);
  };
  r = autograd::gradcheck(conv_pool_relu, {input({3, 2, 6, 5}), input({3, 2, 3, 3}), input({3})});
  EXPECT_TRUE(r.ok) << r.detail;
}

// Attention without a mask or causality, with an explicit scale and views of one
// projection as q, k, v (strided heads), and cross-entropy over a sequence.
TEST(Gradcheck, AttentionLayoutsAndSequenceLoss) {
  Generator gen(6);
  auto input = [&](const Shape& s) { return gen.uniform_tensor(s, -1, 1, DType::f64).set_requires_grad(true); };
  auto plain = [](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2], Tensor(), false, 0.7); };
  auto r = autograd::gradcheck(plain, {input({1, 3, 4, 2}), input({1, 3, 6, 2}), input({1, 3, 6, 5})});
  EXPECT_TRUE(r.ok) << r.detail;
  auto from_projection = [](const Inputs& x) {  // x [b, t, 3, h, d]
    Tensor qkv = permute(x[0], {2, 0, 3, 1, 4});
    auto part = [&](int64_t i) { return squeeze(slice(qkv, 0, i, i + 1, 1), 0); };
    return scaled_dot_product_attention(part(0), part(1), part(2), Tensor(), true);
  };
  r = autograd::gradcheck(from_projection, {input({2, 4, 3, 2, 3})});
  EXPECT_TRUE(r.ok) << r.detail;
  auto sequence_loss = [](const Inputs& x) {
    return cross_entropy(x[0], Tensor::from_vector<int64_t>({1, 0, 3, 3, 2, 0}, {2, 3}));
  };
  r = autograd::gradcheck(sequence_loss, {input({2, 3, 4})});
  EXPECT_TRUE(r.ok) << r.detail;
}

}  // namespace
}  // namespace loom

namespace loom {
namespace {

// A fused op and its unfused chain, run as fn(fused) -> {output, input grads...}:
// every tensor agrees to within abs_tol + 1e-5 relative.
template <typename Fn>
void expect_fused_matches(Fn&& run, double abs_tol, const std::string& context) {
  auto fused = run(true), plain = run(false);
  ASSERT_EQ(fused.size(), plain.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    auto f = fused[i].template to_vector<float>(), p = plain[i].template to_vector<float>();
    ASSERT_EQ(f.size(), p.size());
    for (size_t k = 0; k < f.size(); ++k)
      ASSERT_NEAR(f[k], p[k], abs_tol + 1e-5 * std::abs(p[k])) << context << ", tensor " << i << " at " << k;
  }
}

// linear_act (NOTE [Fused linear]) against the unfused ops, in f32 through the
// SIMD entries: outputs and every input's gradient agree to float tolerance.
TEST(LinearAct, MatchesUnfusedLinearThenActivation) {
  for (Activation act : {Activation::none, Activation::relu, Activation::gelu}) {
    Generator gen(11);
    Tensor x = gen.uniform_tensor({37, 33}, -1, 1).set_requires_grad(true);
    Tensor w = gen.uniform_tensor({19, 33}, -1, 1).set_requires_grad(true);
    Tensor b = gen.uniform_tensor({19}, -1, 1).set_requires_grad(true);
    Tensor gy = gen.uniform_tensor({37, 19}, -1, 1);
    auto grads = [&](bool fused) {
      for (Tensor* t : {&x, &w, &b})
        t->set_grad(Tensor());
      Tensor y = fused ? linear_act(x, w, b, act)
                       : (act == Activation::relu   ? relu(linear(x, w, b))
                          : act == Activation::gelu ? gelu(linear(x, w, b))
                                                    : linear(x, w, b));
      sum(mul(y, gy)).backward();
      return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
    };
    expect_fused_matches(grads, 1e-5, "act " + std::to_string(int(act)));
  }
}

// conv2d_max_pool2d (NOTE [Fused conv + max-pool]) against conv2d then
// max_pool2d (then relu, when fused) in f32 through the fast entries, at a size where
// each thread walks several steps (oneDNN and im2col_split layers), on 1 and 2 threads.
TEST(ConvMaxPool, MatchesConvThenPoolAtOneAndTwoThreads) {
  const int saved = runtime::num_threads();
  for (int threads : {1, 2}) {
    runtime::set_num_threads(threads);
    for (auto [in_ch, act] : {std::pair{int64_t{1}, Activation::none},
                              {int64_t{16}, Activation::none},
                              {int64_t{1}, Activation::relu},
                              {int64_t{16}, Activation::relu}}) {
      Generator gen(21);
      Tensor x = gen.uniform_tensor({9, in_ch, 28, 28}, -1, 1).set_requires_grad(true);
      Tensor w = gen.uniform_tensor({40, in_ch, 3, 3}, -1, 1).set_requires_grad(true);
      Tensor b = gen.uniform_tensor({40}, -1, 1).set_requires_grad(true);
      Tensor gy = gen.uniform_tensor({9, 40, 14, 14}, -1, 1);
      auto grads = [&](bool fused) {
        for (Tensor* t : {&x, &w, &b})
          t->set_grad(Tensor());
        Tensor y;
        if (fused) {
          y = conv2d_max_pool2d(x, w, b, {.pad_h = 1, .pad_w = 1}, {}, act);
        } else {
          y = max_pool2d(conv2d(x, w, b, {.pad_h = 1, .pad_w = 1}), {});
          if (act == Activation::relu)
            y = relu(y);
        }
        sum(mul(y, gy)).backward();
        return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
      };
      const std::vector<Tensor> fused = grads(true);
      if (act == Activation::relu) {  // the ReLU did cut some windows off
        const auto out = fused[0].to_vector<float>();
        EXPECT_GT(std::count(out.begin(), out.end(), 0.0f), 0);
      }
      expect_fused_matches(grads, 1e-4,
                           std::to_string(threads) + " threads, " + std::to_string(in_ch) + " channels" +
                               (act == Activation::relu ? ", relu" : ""));
    }
  }
  runtime::set_num_threads(saved);
}

}  // namespace
}  // namespace loom
