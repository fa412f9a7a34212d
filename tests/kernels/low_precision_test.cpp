// Quantization parameters on tensors, quantize/dequantize, and the low-precision
// GEMM references against f32 (NOTE [GEMM operand dtypes]): the 8-bit integer
// GEMM equals an f32 GEMM of the same integers exactly, bf16 agrees with f32 on
// the rounded inputs, and matmul takes both through the op entry point.
#include <gtest/gtest.h>

#include <cmath>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/autograd/ops.h"
#include "loom/core/generator.h"
#include "loom/kernels/gemm.h"
#include "loom/kernels/quantize.h"

namespace loom {
namespace {

using kernels::choose_quant_params;
using kernels::dequantize;
using kernels::quantize;

Tensor random_bytes(const Shape& shape, DType dtype, uint64_t seed) {
  Generator g(seed);
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  const int64_t lo = quant_min(dtype), span = quant_max(dtype) - lo + 1;
  for (double& x : v)
    x = static_cast<double>(lo + static_cast<int64_t>(g.below(static_cast<uint64_t>(span))));
  return Tensor::from_vector(v, shape).to(dtype);
}

TEST(QuantParams, AttachingThemIsCheckedAndNamesWhatIsWrong) {
  Tensor q = Tensor::zeros({4, 3}, DType::i8);
  EXPECT_FALSE(q.is_quantized());
  Tensor t = q.with_quant_params(QuantParams::per_tensor(0.5f, -3));
  ASSERT_TRUE(t.is_quantized());
  EXPECT_EQ(t.quant_params()->str(), "per_tensor(scale=0.5, zero_point=-3)");
  EXPECT_EQ(t.storage().data(), q.storage().data());  // the same storage
  auto fails = [](auto fn, const std::string& part) {
    EXPECT_NE(testing::error_message(fn).find(part), std::string::npos) << part;
  };
  fails([&] { Tensor::zeros({3}).with_quant_params(QuantParams::per_tensor(1, 0)); }, "i8, u8 or i32, not f32");
  fails([&] { q.with_quant_params(QuantParams::per_tensor(0, 0)); }, "scale 0 is 0");
  fails([&] { q.with_quant_params(QuantParams::per_tensor(1, 128)); }, "zero point 0 is 128, outside i8's [-128, 127]");
  fails([&] { q.with_quant_params(QuantParams::per_axis({1, 1}, {0, 0}, 1)); }, "2 scales for axis 1 of size 3");
  fails([&] { q.with_quant_params(QuantParams::per_axis({1, 1, 1}, {0, 0, 0}, 2)); }, "axis 2 is not an axis");
}

TEST(QuantParams, ViewsKeepPerTensorAndDropPerAxisParameters) {
  Tensor q = Tensor::zeros({4, 3}, DType::i8);
  Tensor pt = q.with_quant_params(QuantParams::per_tensor(0.25f, 1));
  Tensor pa = q.with_quant_params(QuantParams::per_axis({1, 2, 3}, {0, 0, 0}, 1));
  EXPECT_TRUE(pt.as_strided({3, 4}, {1, 3}, 0).is_quantized());  // a transpose keeps one scale
  EXPECT_FALSE(pa.as_strided({3, 4}, {1, 3}, 0).is_quantized());
  EXPECT_TRUE(pa.detach().is_quantized());
  EXPECT_EQ(*pa.clone().quant_params(), *pa.quant_params());
  EXPECT_FALSE(pa.to(DType::i32).is_quantized());  // a converting copy is not a quantized tensor
}

TEST(Quantize, RoundsHalfToEvenClampsAndDequantizesBack) {
  Tensor x = Tensor::from_vector<float>({-1.0f, 0.0f, 0.25f, 0.75f, 63.5f, 100.0f, -100.0f}, {7});
  Tensor q = quantize(x, QuantParams::per_tensor(0.5f, 0), DType::i8);
  EXPECT_EQ(q.dtype(), DType::i8);
  EXPECT_EQ(q.to(DType::i64).to_vector<int64_t>(), (std::vector<int64_t>{-2, 0, 0, 2, 127, 127, -128}));
  EXPECT_EQ(dequantize(q).to_vector<float>(), (std::vector<float>{-1, 0, 0, 1, 63.5f, 63.5f, -64}));
  Tensor u = quantize(x, QuantParams::per_tensor(0.5f, 10), DType::u8);
  EXPECT_EQ(u.to(DType::i64).to_vector<int64_t>(), (std::vector<int64_t>{8, 10, 10, 12, 137, 210, 0}));
  EXPECT_THROW(dequantize(Tensor::zeros({2}, DType::i8)), Error);
}

TEST(Quantize, ChosenParametersKeepEveryElementWithinHalfAStep) {
  Tensor w = Generator(3).normal_tensor({6, 40}, 0, 1);
  for (int64_t axis : {-1, 0, 1}) {
    for (bool symmetric : {true, false}) {
      const DType dtype = symmetric ? DType::i8 : DType::u8;
      const QuantParams p = choose_quant_params(w, dtype, symmetric, axis);
      ASSERT_EQ(static_cast<int64_t>(p.scales.size()), axis < 0 ? 1 : w.size(axis));
      EXPECT_EQ(p.symmetric(), symmetric);
      const Tensor back = dequantize(quantize(w, p, dtype));
      const auto a = w.to_vector<float>(), b = back.to_vector<float>();
      for (int64_t i = 0; i < w.numel(); ++i) {
        const int64_t g = axis < 0 ? 0 : axis == 0 ? i / 40 : i % 40;
        ASSERT_LE(std::fabs(a[i] - b[i]), 0.5 * p.scales[g] * (1 + 1e-5)) << "axis " << axis << " element " << i;
      }
    }
  }
}

kernels::GemmArgs byte_gemm(const Tensor& a, const Tensor& b, const Tensor& c, bool ta, bool tb, int64_t m, int64_t n,
                            int64_t k) {
  kernels::GemmArgs g;
  g.a_dtype = a.dtype(), g.b_dtype = b.dtype(), g.c_dtype = c.dtype();
  g.device = Device::cpu();
  g.trans_a = ta, g.trans_b = tb;
  g.m = m, g.n = n, g.k = k;
  g.a = a.raw_data(), g.lda = a.size(1), g.b = b.raw_data(), g.ldb = b.size(1), g.c = c.raw_data(), g.ldc = n;
  return g;
}

TEST(LowPrecisionGemm, Int8ReferenceEqualsAnF32GemmOfTheSameIntegers) {
  const int64_t m = 9, n = 7, k = 300;  // k * 255 * 128 stays far below 2^24: f32 is exact
  for (DType adt : {DType::u8, DType::i8})
    for (DType bdt : {DType::i8, DType::u8})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          const Tensor a = random_bytes(ta ? Shape{k, m} : Shape{m, k}, adt, 1);
          const Tensor b = random_bytes(tb ? Shape{n, k} : Shape{k, n}, bdt, 2);
          const int32_t za = adt == DType::u8 ? 3 : -1, zb = bdt == DType::u8 ? 128 : 0;
          Tensor c = Tensor::full({m, n}, 5.0, DType::i32);
          kernels::GemmArgs g = byte_gemm(a, b, c, ta, tb, m, n, k);
          g.a_zero_point = za, g.b_zero_point = zb, g.beta = 1;  // accumulates onto the 5s
          kernels::gemm_kernels()(g);
          // the same product in f32 over the shifted integers
          Tensor af = sub(a.to(DType::f32), Tensor::scalar(za)), bf = sub(b.to(DType::f32), Tensor::scalar(zb));
          Tensor want = add(matmul(ta ? transpose(af, 0, 1) : af, tb ? transpose(bf, 0, 1) : bf), Tensor::scalar(5));
          EXPECT_EQ(testing::max_abs_diff(c.to(DType::f32), want), 0.0)
              << dtype_name(adt) << " x " << dtype_name(bdt) << " ta=" << ta << " tb=" << tb;
        }
}

TEST(LowPrecisionGemm, Bf16ReferenceAgreesWithF32OnTheRoundedInputs) {
  const int64_t m = 12, n = 10, k = 64;
  Generator gen(4);
  const Tensor a = gen.normal_tensor({m, k}, 0, 1).to(DType::bf16), b = gen.normal_tensor({k, n}, 0, 1).to(DType::bf16);
  const Tensor want = matmul(a.to(DType::f32), b.to(DType::f32));
  Tensor c = Tensor::zeros({m, n});
  kernels::gemm_kernels()(byte_gemm(a, b, c, false, false, m, n, k));
  EXPECT_LT(testing::max_abs_diff(c, want), 1e-4);  // only the summation order differs
  const Tensor c16 = matmul(a, b);                  // the op: bf16 @ bf16 -> bf16
  EXPECT_EQ(c16.dtype(), DType::bf16);
  const auto got = c16.to(DType::f32).to_vector<float>(), ref = want.to_vector<float>();
  for (size_t i = 0; i < got.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], std::fabs(ref[i]) * (1.0 / 256) + 1e-6) << i;  // one bf16 rounding
}

TEST(LowPrecisionGemm, MixedDtypesAreDeclinedWithEachEntrysReason) {
  const Tensor a = Tensor::zeros({2, 2}), b = Tensor::zeros({2, 2}, DType::i8), c = Tensor::zeros({2, 2});
  const std::string msg = testing::error_message([&] { kernels::gemm_kernels()(byte_gemm(a, b, c, 0, 0, 2, 2, 2)); });
  EXPECT_NE(msg.find("no cpu kernel accepts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cpu_reference_int8: dtypes f32 x i8 -> f32"), std::string::npos) << msg;
  const std::string op = testing::error_message([&] { matmul(a, b); });
  EXPECT_NE(op.find("matmul"), std::string::npos) << op;
}

// The usual int8 linear layer: u8 activations (affine, per tensor) times i8
// weights (symmetric, per output channel), accumulated in i32 and rescaled.
TEST(LowPrecisionGemm, QuantizedMatmulApproximatesTheF32Product) {
  Generator gen(5);
  const Tensor x = gen.uniform_tensor({8, 32}, -1, 2), w = gen.normal_tensor({32, 6}, 0, 0.5);
  const QuantParams px = choose_quant_params(x, DType::u8, false), pw = choose_quant_params(w, DType::i8, true, 1);
  const Tensor qx = quantize(x, px, DType::u8), qw = quantize(w, pw, DType::i8);
  const Tensor acc = matmul(qx, qw);
  ASSERT_EQ(acc.dtype(), DType::i32);
  // exactly the integer product of the shifted values
  const Tensor exact = matmul(sub(qx.to(DType::f32), Tensor::scalar(px.zero_points[0])), qw.to(DType::f32));
  EXPECT_EQ(testing::max_abs_diff(acc.to(DType::f32), exact), 0.0);
  // rescaled, within the rounding of both operands
  const Tensor scales = Tensor::from_vector(pw.scales, {1, 6});
  const Tensor y = mul(acc.to(DType::f32), mul(scales, Tensor::scalar(px.scales[0])));
  const Tensor want = matmul(x, w);
  const auto got = y.to_vector<float>(), ref = want.to_vector<float>();
  const auto xs = x.to_vector<float>(), ws = w.to_vector<float>();
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t j = 0; j < 6; ++j) {
      double bound = 0;
      for (int64_t p = 0; p < 32; ++p)
        bound += std::fabs(xs[i * 32 + p]) * pw.scales[j] / 2 + std::fabs(ws[p * 6 + j]) * px.scales[0] / 2 +
                 px.scales[0] * pw.scales[j] / 4;
      ASSERT_NEAR(got[i * 6 + j], ref[i * 6 + j], bound * 1.001) << i << "," << j;
    }
  // the shape rule gives i32 on meta too
  const Tensor on_meta = matmul(qx.to(Device::meta()), qw.to(Device::meta()));
  EXPECT_EQ(on_meta.dtype(), DType::i32);
  EXPECT_EQ(on_meta.shape(), (Shape{8, 6}));
}

}  // namespace
}  // namespace loom
