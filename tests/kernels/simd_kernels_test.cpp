// Every AVX2 / AVX-512 entry against the reference entry of its family, with
// per-op tolerances, at awkward sizes and unaligned offsets. Each test is one case
// per ISA (tests/kernels/isa_fixture.h): a case forces its ISA, and is skipped with
// the reason when this CPU lacks it.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

#include "kernels/cpu/simd_kernels.h"
#include "kernels/isa_fixture.h"
#include "loom/core/generator.h"
#include "loom/kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels {
namespace {

using cpu::simd::Isa;

constexpr Isa kIsas[] = {Isa::avx512, Isa::avx2};
const int64_t kSizes[] = {0, 1, 15, 17, 100, 1000003};

// The list entries exist for avx512 and avx2 (the reference entry is what they are
// checked against); the dispatched functions also have a scalar path.
class SimdKernels : public testing::IsaTest {};
class SimdKernelsWithReference : public testing::IsaTest {};
INSTANTIATE_TEST_SUITE_P(Isa, SimdKernels, ::testing::ValuesIn(kIsas), testing::isa_case_name);
INSTANTIATE_TEST_SUITE_P(Isa, SimdKernelsWithReference, ::testing::Values(Isa::avx512, Isa::avx2, Isa::reference),
                         testing::isa_case_name);

// Forces an ISA for the scope (as LOOM_ISA would) and puts back the selection it found.
struct ForcedIsa {
  explicit ForcedIsa(Isa isa) : saved_(cpu::simd::isa_ceiling()) { cpu::simd::force_isa(isa); }
  ~ForcedIsa() { cpu::simd::force_isa(saved_); }
  Isa saved_;
};

template <typename List>
const typename List::Entry& entry(const List& list, const std::string& name) {
  for (const auto& e : list.entries())
    if (e.name == name)
      return e;
  throw std::runtime_error("no entry " + name + " in " + list.family());
}

// A contiguous f32 view of n elements starting `offset` floats into its storage,
// so the data pointer is not 64-byte aligned.
Tensor unaligned(Generator& g, int64_t n, int64_t offset, double lo, double hi) {
  Tensor base = g.uniform_tensor({n + offset}, lo, hi);
  return base.as_strided({n}, {1}, offset);
}

struct Tol {
  double atol = 0, rtol = 0;
};

void expect_close(const Tensor& got, const Tensor& want, Tol tol, const std::string& what) {
  auto g = got.contiguous().to_vector<float>(), w = want.contiguous().to_vector<float>();
  ASSERT_EQ(g.size(), w.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < g.size() && bad < 5; ++i) {
    if (std::isnan(w[i]) && std::isnan(g[i]))
      continue;
    if (std::isinf(w[i]) && g[i] == w[i])
      continue;
    const double err = std::abs(static_cast<double>(g[i]) - w[i]);
    if (!(err <= tol.atol + tol.rtol * std::abs(w[i]))) {
      ADD_FAILURE() << what << " at " << i << ": got " << g[i] << " want " << w[i];
      ++bad;
    }
  }
}

struct UnaryCase {
  UnaryOp op;
  double lo, hi;
  Tol tol;
};

TEST_P(SimdKernels, UnaryMatchesReference) {
  const UnaryCase cases[] = {
      {UnaryOp::neg, -5, 5, {}},
      {UnaryOp::relu, -5, 5, {}},
      {UnaryOp::gelu, -6, 6, {2e-6, 1e-5}},
      {UnaryOp::tanh, -6, 6, {1e-7, 1e-6}},
      {UnaryOp::sigmoid, -20, 20, {1e-7, 1e-6}},
      {UnaryOp::exp, -100, 89, {1e-37, 1e-6}},
      {UnaryOp::log, 1e-6, 1e6, {1e-7, 1e-6}},
      {UnaryOp::sqrt, 0, 100, {}},
      {UnaryOp::rsqrt, 0.01, 100, {}},
      {UnaryOp::abs, -5, 5, {}},
      {UnaryOp::square, -5, 5, {}},
      {UnaryOp::reciprocal, 0.1, 5, {}},
      {UnaryOp::scale_shift, -5, 5, {}},
  };
  const auto& ref = unary_kernels().entries().back();
  const auto& e = entry(unary_kernels(), isa_name());
  Generator g(3);
  for (const UnaryCase& c : cases)
    for (int64_t n : kSizes) {
      Tensor x = unaligned(g, n, 1 + n % 3, c.lo, c.hi);
      Tensor got = Tensor::empty({n}), want = Tensor::empty({n});
      ASSERT_EQ(e.declines(c.op, x, got, 1.5, -0.25), "");
      e.run(c.op, x, got, 1.5, -0.25);
      ref.run(c.op, x, want, 1.5, -0.25);
      expect_close(got, want, c.tol, std::string(isa_name()) + " " + unary_op_name(c.op) + " n=" + std::to_string(n));
    }
}

TEST_P(SimdKernels, MathSpecialValues) {
  const float inf = INFINITY, nan = NAN;
  Tensor x = Tensor::from_vector<float>(
      {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, nan, 88.7f, 89.0f, -87.5f, -104.0f, -110.0f, 1e-30f, -3.0f, 0.62f, 0.63f},
      {16});
  const auto& ref = unary_kernels().entries().back();
  const auto& e = entry(unary_kernels(), isa_name());
  for (UnaryOp op : {UnaryOp::exp, UnaryOp::log, UnaryOp::tanh, UnaryOp::sigmoid, UnaryOp::relu, UnaryOp::gelu}) {
    Tensor got = Tensor::empty({16}), want = Tensor::empty({16});
    e.run(op, x, got, 0, 0);
    ref.run(op, x, want, 0, 0);
    expect_close(got, want, op == UnaryOp::gelu ? Tol{1e-7, 1e-5} : Tol{1e-37, 2e-6},
                 std::string(isa_name()) + " special " + unary_op_name(op));
  }
}

struct BinaryCase {
  BinaryOp op;
  Tol tol;
};

TEST_P(SimdKernels, BinaryMatchesReferenceIncludingBroadcasts) {
  const BinaryCase cases[] = {
      {BinaryOp::add, {}},           {BinaryOp::sub, {}},
      {BinaryOp::mul, {}},           {BinaryOp::div, {}},
      {BinaryOp::maximum, {}},       {BinaryOp::minimum, {}},
      {BinaryOp::relu_backward, {}}, {BinaryOp::gelu_backward, {2e-6, 1e-5}},
      {BinaryOp::tanh_backward, {}}, {BinaryOp::sigmoid_backward, {}},
      {BinaryOp::greater, {}},       {BinaryOp::equal, {}},
  };
  const auto& ref = binary_kernels().entries().back();
  const auto& e = entry(binary_kernels(), isa_name());
  Generator g(4);
  for (const BinaryCase& c : cases) {
    auto check = [&](const Tensor& a, const Tensor& b, const Shape& shape, const std::string& pattern) {
      Tensor got = Tensor::empty(shape), want = Tensor::empty(shape);
      ASSERT_EQ(e.declines(c.op, a, b, got), "") << pattern;
      e.run(c.op, a, b, got);
      ref.run(c.op, a, b, want);
      expect_close(got, want, c.tol, std::string(isa_name()) + " " + binary_op_name(c.op) + " " + pattern);
    };
    for (int64_t n : kSizes) {
      Tensor a = unaligned(g, n, 3, -3, 3), b = unaligned(g, n, 1, 0.5, 3);
      check(a, b, {n}, "flat n=" + std::to_string(n));
      Tensor s = unaligned(g, 1, 2, 0.5, 3);
      check(a, s.as_strided({n}, {0}, s.offset()), {n}, "scalar b n=" + std::to_string(n));
      check(s.as_strided({n}, {0}, s.offset()), b, {n}, "scalar a n=" + std::to_string(n));
    }
    for (int64_t cols : {1, 10, 17, 256}) {
      const int64_t rows = 37;
      Tensor x = unaligned(g, rows * cols, 1, -3, 3).view({rows, cols});
      Tensor bias = unaligned(g, cols, 2, 0.5, 3);
      check(x, bias.as_strided({rows, cols}, {0, 1}, bias.offset()), {rows, cols},
            "bias rows cols=" + std::to_string(cols));
      Tensor col = unaligned(g, rows, 2, 0.5, 3);
      check(x, col.as_strided({rows, cols}, {1, 0}, col.offset()), {rows, cols},
            "column broadcast cols=" + std::to_string(cols));
    }
  }
}

// The collectives' in-place accumulate: exact (one add per element), on unaligned
// pointers with tails, on each ISA including the scalar fallback.
TEST_P(SimdKernelsWithReference, AddIntoIsExact) {
  Generator g(9);
  for (int64_t n : kSizes) {
    // One float in, so neither pointer is vector-aligned.
    auto dst = g.uniform_tensor({n + 1}, -3, 3).to_vector<float>(),
         src = g.uniform_tensor({n + 1}, -3, 3).to_vector<float>();
    std::vector<float> want(dst);
    for (int64_t i = 1; i <= n; ++i)
      want[i] += src[i];
    add_into_f32(dst.data() + 1, src.data() + 1, n);
    ASSERT_EQ(0, std::memcmp(dst.data(), want.data(), want.size() * sizeof(float))) << isa_name() << " n=" << n;
  }
}

// Bytes to f32 / 255 against the scalar division, every byte value, at every offset
// within a vector and with tails.
TEST_P(SimdKernelsWithReference, BytesToUnitIsExact) {
  std::vector<uint8_t> bytes(1000);
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(i * 37 + i / 256);
  for (int64_t offset : {0, 1, 7}) {
    for (int64_t n : {0, 1, 15, 17, 256, 993}) {
      std::vector<float> got(static_cast<size_t>(n) + 1, -1.0f);
      bytes_to_unit_f32(bytes.data() + offset, got.data(), n);
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(got[static_cast<size_t>(i)], static_cast<float>(bytes[static_cast<size_t>(offset + i)]) / 255.0f)
            << isa_name() << " offset " << offset << " n=" << n << " at " << i;
      ASSERT_EQ(got[static_cast<size_t>(n)], -1.0f) << "wrote past the end";
    }
  }
}

// The Adam update against adam_update_scalar, bit for bit, with and without each
// kind of weight decay, at an offset of one float and with tails.
TEST_P(SimdKernelsWithReference, AdamUpdateIsExact) {
  Generator gen(13);
  std::vector<AdamStep> steps(3);
  for (AdamStep& c : steps) {
    c.step_size = 1e-3 / (1 - 0.9 * 0.9);
    c.inv_bc2_sqrt = 1 / std::sqrt(1 - 0.999 * 0.999);
  }
  steps[1].l2 = 0.01;
  steps[2].shrink = 1 - 1e-3 * 0.01;
  for (const AdamStep& c : steps) {
    for (int64_t n : kSizes) {
      auto p = gen.uniform_tensor({n + 1}, -3, 3).to_vector<float>();
      auto g = gen.uniform_tensor({n + 1}, -3, 3).to_vector<float>();
      auto m = gen.uniform_tensor({n + 1}, -1, 1).to_vector<float>();
      auto v = gen.uniform_tensor({n + 1}, 0, 2).to_vector<float>();
      auto wp = p, wm = m, wv = v;
      adam_update_scalar<float>(wp.data(), g.data(), wm.data(), wv.data(), 1, n + 1, c);
      adam_update_f32(p.data() + 1, g.data() + 1, m.data() + 1, v.data() + 1, n, c);
      const std::string where = std::string(isa_name()) + " n=" + std::to_string(n);
      ASSERT_EQ(0, std::memcmp(p.data(), wp.data(), p.size() * sizeof(float))) << "parameters, " << where;
      ASSERT_EQ(0, std::memcmp(m.data(), wm.data(), m.size() * sizeof(float))) << "first moment, " << where;
      ASSERT_EQ(0, std::memcmp(v.data(), wv.data(), v.size() * sizeof(float))) << "second moment, " << where;
    }
  }
}

// The F16C conversions against the scalar ones, bit for bit: every finite half, the
// rounding ties, overflow, subnormals, signed zeros and infinities, at a byte offset
// of 1 (a payload inside a message) and with tails; a NaN stays a NaN of its sign.
TEST_P(SimdKernelsWithReference, HalfConversionsMatchTheScalarOnes) {
  std::vector<float> values;
  for (uint32_t h = 0; h < 0x7c00; ++h) {
    values.push_back(half_to_float(static_cast<uint16_t>(h)));
    values.push_back(-half_to_float(static_cast<uint16_t>(h)));
  }
  for (float v : {1.0f + 1.0f / 2048, 1.0f + 3.0f / 2048, 65504.0f, 65519.0f, 65520.0f, 1e6f, 1e-8f, 3e-8f, 1e-30f,
                  __builtin_inff(), -__builtin_inff(), 0.0f, -0.0f})
    values.push_back(v);
  Generator g(11);
  for (float v : g.uniform_tensor({1001}, -70000, 70000).to_vector<float>())
    values.push_back(v);
  values.push_back(__builtin_nanf(""));
  values.push_back(-__builtin_nanf(""));
  const int64_t n = static_cast<int64_t>(values.size());
  for (int64_t count : {n, n - 3, int64_t{5}}) {
    std::vector<unsigned char> bytes(static_cast<size_t>(2 * count + 1));
    floats_to_halves(values.data(), bytes.data() + 1, count);
    std::vector<float> sum(static_cast<size_t>(count), 1.0f);
    add_halves_into(sum.data(), bytes.data() + 1, count);
    for (int64_t i = 0; i < count; ++i) {
      uint16_t got;
      std::memcpy(&got, bytes.data() + 1 + 2 * i, 2);
      const float v = values[static_cast<size_t>(i)];
      if (std::isnan(v)) {
        EXPECT_TRUE(std::isnan(half_to_float(got)) && std::signbit(half_to_float(got)) == std::signbit(v));
        continue;
      }
      ASSERT_EQ(got, float_to_half(v)) << isa_name() << " value " << v;
      ASSERT_EQ(sum[static_cast<size_t>(i)], 1.0f + half_to_float(got)) << isa_name() << " value " << v;
    }
  }
}

TEST_P(SimdKernels, ReductionsMatchReference) {
  const auto& ref = reduce_kernels().entries().back();
  const auto& e = entry(reduce_kernels(), isa_name());
  Generator g(5);
  for (ReduceOp op : {ReduceOp::sum, ReduceOp::max, ReduceOp::min}) {
    // {outer, r, inner}: full reductions, rows over the last axis, column sums.
    const int64_t shapes[][3] = {{1, 1, 1},    {1, 15, 1},  {1, 17, 1}, {1, 1000003, 1}, {64, 10, 1}, {7, 333, 1},
                                 {1, 64, 256}, {1, 64, 10}, {3, 5, 17}, {2, 100, 1000},  {1, 0, 1}};
    for (const auto& s : shapes) {
      const int64_t outer = s[0], r = s[1], inner = s[2];
      if (r == 0 && op != ReduceOp::sum)
        continue;
      Tensor x = unaligned(g, outer * r * inner, 1, -1, 1);
      Tensor got = Tensor::empty({outer * inner}), want = Tensor::empty({outer * inner});
      const std::string what = std::string(isa_name()) + " reduce " + std::to_string(int(op)) + " [" +
                               std::to_string(outer) + "," + std::to_string(r) + "," + std::to_string(inner) + "]";
      if (!e.declines(op, x, got, outer, r, inner).empty()) {
        EXPECT_EQ(r, 0) << what;  // only the empty axis goes to the reference
        continue;
      }
      e.run(op, x, got, outer, r, inner);
      ref.run(op, x, want, outer, r, inner);
      // Sums: the tolerance scales with the sum of |x| (the condition of the sum).
      expect_close(got, want, op == ReduceOp::sum ? Tol{1e-6 * r, 1e-6} : Tol{}, what);
    }
  }
}

TEST_P(SimdKernels, FullSumIsAccurateAndTheSameAtEveryThreadCount) {
  Generator g(6);
  const int64_t n = 1000003;
  Tensor x = unaligned(g, n, 3, -1, 1);
  double exact = 0, mag = 0;
  for (float v : x.contiguous().to_vector<float>()) {
    exact += v;
    mag += std::abs(v);
  }
  const int before = runtime::num_threads();
  const auto& e = entry(reduce_kernels(), isa_name());
  float first = 0;
  for (int threads : {1, 2, 1, 2}) {
    runtime::set_num_threads(threads);
    Tensor out = Tensor::empty({1});
    e.run(ReduceOp::sum, x, out, 1, n, 1);
    const float v = out.to_vector<float>()[0];
    EXPECT_NEAR(v, exact, 1e-6 * mag) << isa_name();
    if (threads == 1 && first == 0)
      first = v;
    EXPECT_EQ(std::memcmp(&v, &first, sizeof v), 0) << "bits differ at " << threads << " threads";
  }
  runtime::set_num_threads(before);
}

TEST_P(SimdKernels, SoftmaxMatchesReference) {
  const auto& ref_f = softmax_forward_kernels().entries().back();
  const auto& ref_b = softmax_backward_kernels().entries().back();
  const auto& ef = entry(softmax_forward_kernels(), isa_name());
  const auto& eb = entry(softmax_backward_kernels(), isa_name());
  Generator g(7);
  for (int64_t cols : {1, 10, 15, 17, 1000}) {
    const int64_t rows = 33;
    for (bool log : {false, true}) {
      Tensor x = unaligned(g, rows * cols, 1, -8, 8).view({rows, cols});
      Tensor got = Tensor::empty({rows, cols}), want = Tensor::empty({rows, cols});
      const std::string what =
          std::string(isa_name()) + (log ? " log_softmax" : " softmax") + " cols=" + std::to_string(cols);
      ASSERT_EQ(ef.declines(x, got, log), "");
      ef.run(x, got, log);
      ref_f.run(x, want, log);
      expect_close(got, want, log ? Tol{2e-6, 1e-6} : Tol{1e-7, 2e-6}, what);
      Tensor gy = unaligned(g, rows * cols, 2, -1, 1).view({rows, cols});
      Tensor gx1 = Tensor::empty({rows, cols}), gx2 = Tensor::empty({rows, cols});
      eb.run(want, gy, gx1, log);
      ref_b.run(want, gy, gx2, log);
      expect_close(gx1, gx2, {1e-5, 1e-5}, what + " backward");
    }
  }
}

TEST_P(SimdKernels, BiasActivationMatchesReference) {
  const auto& ref_f = bias_act_kernels().entries().back();
  const auto& ref_b = bias_act_backward_kernels().entries().back();
  const auto& ef = entry(bias_act_kernels(), isa_name());
  const auto& eb = entry(bias_act_backward_kernels(), isa_name());
  Generator g(8);
  for (Activation act : {Activation::none, Activation::relu, Activation::gelu})
    for (int64_t cols : {1, 10, 17, 128, 257}) {
      const int64_t rows = 65;
      const std::string what =
          std::string(isa_name()) + " act " + std::to_string(int(act)) + " cols=" + std::to_string(cols);
      Tensor y0 = g.uniform_tensor({rows, cols}, -3, 3), bias = unaligned(g, cols, 1, -1, 1);
      Tensor y1 = y0.clone(), y2 = y0.clone();
      Tensor p1 = Tensor::empty({rows, cols}), p2 = Tensor::empty({rows, cols});
      ASSERT_EQ(ef.declines(act, bias, y1, p1), "") << what;
      ef.run(act, bias, y1, p1);
      ref_f.run(act, bias, y2, p2);
      const Tol tol = act == Activation::gelu ? Tol{2e-6, 1e-5} : Tol{};
      expect_close(y1, y2, tol, what);
      expect_close(p1, p2, {}, what + " pre");
      Tensor gy = g.uniform_tensor({rows, cols}, -1, 1);
      const Tensor& saved = act == Activation::relu ? y2 : p2;
      Tensor gz1 = Tensor::empty({rows, cols}), gz2 = Tensor::empty({rows, cols});
      Tensor gb1 = Tensor::empty({cols}), gb2 = Tensor::empty({cols});
      eb.run(act, gy, saved, gz1, gb1);
      ref_b.run(act, gy, saved, gz2, gb2);
      expect_close(gz1, gz2, tol, what + " grad_z");
      expect_close(gb1, gb2, act == Activation::gelu ? Tol{1e-5, 1e-5} : Tol{}, what + " grad_bias");
    }
}

TEST(SimdKernelLists, EntriesDeclineWithReasons) {
  Tensor d64 = Tensor::zeros({4}, DType::f64);
  Tensor f = Tensor::zeros({4, 4});
  {
    // No ceiling from LOOM_ISA or an earlier test: each entry declines for its own reasons.
    ForcedIsa none(Isa::avx512);
    for (Isa isa : kIsas) {
      const auto& e = entry(unary_kernels(), cpu::simd::isa_name(isa));
      const std::string why = e.declines(UnaryOp::relu, d64, d64, 0, 0);
      EXPECT_FALSE(why.empty());
      if (cpu::simd::cpu_has(isa)) {
        EXPECT_NE(why.find("f32"), std::string::npos) << why;
        EXPECT_NE(e.declines(UnaryOp::relu, f.as_strided({4, 4}, {1, 4}, 0), f, 0, 0).find("non-contiguous"),
                  std::string::npos);
        EXPECT_NE(e.declines(UnaryOp::pow, f, f, 2, 0), "");
      } else {
        EXPECT_NE(why.find("cpu lacks"), std::string::npos) << why;
      }
    }
  }
  if (cpu::simd::cpu_has(Isa::avx512)) {
    ForcedIsa forced(Isa::avx2);
    EXPECT_NE(entry(unary_kernels(), "avx512").declines(UnaryOp::relu, f, f, 0, 0).find("LOOM_ISA"), std::string::npos);
    EXPECT_EQ(entry(unary_kernels(), "avx2").declines(UnaryOp::relu, f, f, 0, 0), "");
  }
  {
    ForcedIsa forced(Isa::reference);
    EXPECT_EQ(cpu::simd::active_isa(), Isa::reference);
    EXPECT_NE(entry(unary_kernels(), "avx2").declines(UnaryOp::relu, f, f, 0, 0), "");
  }
}

}  // namespace
}  // namespace loom::kernels
