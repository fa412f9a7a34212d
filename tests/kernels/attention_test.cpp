// The fused attention kernels (loom/kernels/attention.h): every SIMD entry against
// the reference entry, at shapes that cross the tile edges, with causal offsets,
// broadcast masks, rows that see no key, and strided heads.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/isa_fixture.h"
#include "loom/autograd.h"
#include "loom/core/generator.h"
#include "loom/kernels.h"

namespace loom::kernels {
namespace {

using cpu::simd::Isa;

class AttentionKernels : public testing::IsaTest {};
INSTANTIATE_TEST_SUITE_P(Isa, AttentionKernels, ::testing::Values(Isa::avx512, Isa::avx2), testing::isa_case_name);

using testing::kernel_entry;

struct Case {
  int64_t b, h, t, s, d, dv;
  bool causal;
  Shape mask;  // empty: none
};

// A [b, h, rows, cols] tensor stored as [b, rows, h, cols] (the op's layout).
Tensor interleaved(Generator& gen, int64_t b, int64_t h, int64_t rows, int64_t cols) {
  Tensor t = gen.uniform_tensor({b, rows, h, cols}, -1, 1);
  return t.as_strided({b, h, rows, cols}, {rows * h * cols, cols, h * cols, 1}, 0);
}

Tensor broadcast_mask(const Tensor& m, const Shape& want) {
  Shape strides(4, 0);
  const int64_t r = m.dim();
  for (int64_t i = 0; i < r; ++i)
    strides[4 - r + i] = m.size(i) == 1 ? 0 : m.strides()[i];
  return m.as_strided(want, strides, 0);
}

void expect_close(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  auto g = got.contiguous().to_vector<float>(), w = want.contiguous().to_vector<float>();
  ASSERT_EQ(g.size(), w.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isinf(w[i])) {
      EXPECT_EQ(g[i], w[i]) << what << " at " << i;
      continue;
    }
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << " at " << i;
  }
}

TEST_P(AttentionKernels, MatchReferenceForwardAndBackward) {
  const Case cases[] = {
      {2, 4, 64, 64, 32, 32, true, {}},         // the gpt shape
      {1, 2, 5, 133, 7, 9, true, {}},           // more keys than queries, tails everywhere
      {2, 1, 70, 70, 16, 16, false, {70, 70}},  // a mask across two key tiles
      {1, 3, 3, 3, 17, 4, false, {1, 3, 1, 3}}, {1, 1, 1, 200, 8, 8, true, {}},  // one query after a cache
      {2, 2, 9, 9, 5, 5, true, {9, 9}},
  };
  for (const Case& c : cases) {
    Generator gen(3);
    AttentionShape a{c.b, c.h, c.t, c.s, c.d, c.dv, c.causal, 1.0 / std::sqrt(double(c.d))};
    Tensor q = interleaved(gen, c.b, c.h, c.t, c.d), k = interleaved(gen, c.b, c.h, c.s, c.d);
    Tensor v = interleaved(gen, c.b, c.h, c.s, c.dv);
    Tensor mask;
    if (!c.mask.empty()) {
      Tensor m = gen.uniform_tensor(c.mask, -2, 1);
      // Hide every key from row 1 (out 0, lse -inf) and one key from the rest.
      auto values = m.to_vector<float>();
      const int64_t cols = c.mask.back(), rows = c.mask[c.mask.size() - 2];
      for (size_t i = 0; i < values.size(); ++i)
        if (int64_t(i / cols) % rows == 1 || int64_t(i % cols) == 2)
          values[i] = -std::numeric_limits<float>::infinity();
      mask = broadcast_mask(Tensor::from_vector<float>(values, c.mask), {c.b, c.h, c.t, c.s});
    }
    const std::string what = "case t=" + std::to_string(c.t) + " s=" + std::to_string(c.s);
    Tensor out_ref = Tensor::empty({c.b, c.h, c.t, c.dv}), lse_ref = Tensor::empty({c.b, c.h, c.t});
    Tensor out = Tensor::empty({c.b, c.h, c.t, c.dv}), lse = Tensor::empty({c.b, c.h, c.t});
    const auto& forward = kernel_entry(attention_forward_kernels(), isa_name());
    const auto& forward_ref = kernel_entry(attention_forward_kernels(), "cpu_reference");
    forward_ref.run(a, q, k, v, mask, out_ref, lse_ref);
    ASSERT_EQ(forward.declines(a, q, k, v, mask, out, lse), "");
    forward.run(a, q, k, v, mask, out, lse);
    expect_close(out, out_ref, 2e-5, what + " out");
    expect_close(lse, lse_ref, 2e-5, what + " lse");

    AttentionGrads ref{q,
                       k,
                       v,
                       mask,
                       out_ref,
                       lse_ref,
                       gen.uniform_tensor({c.b, c.h, c.t, c.dv}, -1, 1),
                       Tensor::empty(q.shape()),
                       Tensor::empty(k.shape()),
                       Tensor::empty(v.shape())};
    AttentionGrads simd = ref;
    simd.grad_q = Tensor::full(q.shape(), 7.0f);  // overwritten, not accumulated
    simd.grad_k = Tensor::full(k.shape(), 7.0f);
    simd.grad_v = Tensor::full(v.shape(), 7.0f);
    kernel_entry(attention_backward_kernels(), "cpu_reference").run(a, ref);
    kernel_entry(attention_backward_kernels(), isa_name()).run(a, simd);
    expect_close(simd.grad_q, ref.grad_q, 5e-5, what + " grad q");
    expect_close(simd.grad_k, ref.grad_k, 5e-5, what + " grad k");
    expect_close(simd.grad_v, ref.grad_v, 5e-5, what + " grad v");
  }
}

// The op against softmax(q k^T * scale + mask) v written out with other ops, and
// its gradients against theirs: the fused op means the same thing.
TEST(Attention, OpMatchesComposedOps) {
  Generator gen(8);
  const int64_t b = 2, h = 3, t = 6, d = 5;
  Tensor q = gen.uniform_tensor({b, h, t, d}, -1, 1).set_requires_grad(true);
  Tensor k = gen.uniform_tensor({b, h, t, d}, -1, 1).set_requires_grad(true);
  Tensor v = gen.uniform_tensor({b, h, t, d}, -1, 1).set_requires_grad(true);
  std::vector<float> causal(t * t);
  for (int64_t i = 0; i < t; ++i)
    for (int64_t j = 0; j < t; ++j)
      causal[i * t + j] = j > i ? -std::numeric_limits<float>::infinity() : 0.0f;
  Tensor mask = Tensor::from_vector<float>(causal, {t, t});
  Tensor gy = gen.uniform_tensor({b, h, t, d}, -1, 1);
  auto run = [&](bool fused) {
    for (Tensor* x : {&q, &k, &v})
      x->set_grad(Tensor());
    auto heads = [&](const Tensor& x) { return reshape(x, {b * h, t, d}); };  // matmul takes one batch axis
    Tensor scores = mul_scalar(matmul(heads(q), transpose(heads(k), -1, -2)), 1.0 / std::sqrt(double(d)));
    Tensor y = fused ? scaled_dot_product_attention(q, k, v, Tensor(), true)
                     : reshape(matmul(softmax(add(scores, mask), -1), heads(v)), {b, h, t, d});
    sum(mul(y, gy)).backward();
    return std::vector<Tensor>{y.detach(), q.grad(), k.grad(), v.grad()};
  };
  auto fused = run(true), plain = run(false);
  for (size_t i = 0; i < fused.size(); ++i)
    expect_close(fused[i], plain[i], 1e-5, "tensor " + std::to_string(i));
}

}  // namespace
}  // namespace loom::kernels
