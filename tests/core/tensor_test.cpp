#include <gtest/gtest.h>

#include "loom/autograd/ops.h"
#include "loom/core.h"
#include "loom/core/error.h"

namespace loom {
namespace {

TEST(Tensor, FactoriesShapeAndStrides) {
  Tensor t = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(t.dtype(), DType::f32);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % kAlignment, 0u);
  Tensor f = Tensor::full({2}, 2.5, DType::f64);
  EXPECT_EQ(f.to_vector<double>(), (std::vector<double>{2.5, 2.5}));
  EXPECT_EQ(Tensor::arange(4).to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_THROW(Tensor::empty({-1, 2}), ValueError);
}

TEST(Tensor, ViewsShareStorageWithoutCopies) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor tr = transpose(t, 0, 1);
  EXPECT_EQ(tr.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.storage().data(), t.storage().data());
  EXPECT_EQ(tr.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  Tensor sl = slice(t, 1, 1, 3);
  EXPECT_EQ(sl.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
  Tensor ex = expand(Tensor::from_vector<float>({7, 8}, {2, 1}), {2, 3});
  EXPECT_EQ(ex.strides()[1], 0);
  EXPECT_EQ(ex.to_vector<float>(), (std::vector<float>{7, 7, 7, 8, 8, 8}));
  Tensor r = reshape(t, {3, 2});
  EXPECT_EQ(r.storage().data(), t.storage().data());
  // Reshaping a transposed view needs a copy; the values stay row-major.
  Tensor rc = reshape(tr, {6});
  EXPECT_EQ(rc.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  // Writing through a view is visible in the base.
  sl.fill_(9);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 9, 9, 3, 9, 9}));
}

TEST(Tensor, ReshapeErrorsNameBothShapes) {
  Tensor t = Tensor::zeros({2, 3});
  try {
    reshape(t, {4, 2});
    FAIL() << "expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
}

// Expects as_strided to throw ValueError with every fragment in its message.
void expect_bad_view(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset,
                     const std::vector<std::string>& fragments) {
  try {
    t.as_strided(shape, strides, offset);
    ADD_FAILURE() << "as_strided(" << shape_str(shape) << ", " << shape_str(strides) << ", " << offset
                  << ") did not throw";
  } catch (const ValueError& e) {
    for (const std::string& f : fragments)
      EXPECT_NE(e.message().find(f), std::string::npos) << "missing '" << f << "' in: " << e.message();
  }
}

TEST(Tensor, AsStridedRejectsBadArgumentsWithTheirValues) {
  Tensor t = Tensor::zeros({2, 3});  // 6 f32 elements, 24 bytes
  expect_bad_view(t, {2, 3}, {1}, 0, {"sizes [2, 3] have 2 dimensions but strides [1] have 1"});
  expect_bad_view(t, {3}, {-1}, 2, {"stride -1 of dimension 0 in strides [-1] is negative"});
  expect_bad_view(t, {2, -1}, {3, 1}, 0, {"size -1 of dimension 1 in sizes [2, -1] is negative"});
  expect_bad_view(t, {2}, {1}, -1, {"offset -1 is negative"});
}

TEST(Tensor, AsStridedRejectsViewsPastTheEndOfTheStorage) {
  Tensor t = Tensor::zeros({2, 3});
  expect_bad_view(t, {2, 3}, {3, 1}, 1,
                  {"sizes [2, 3] with strides [3, 1] at offset 1 reach element 6",
                   "past the end of the storage of 6 f32 elements (24 bytes)"});
  expect_bad_view(t, {7}, {1}, 0, {"reach element 6"});
  expect_bad_view(t, {2}, {6}, 0, {"reach element 6"});
  expect_bad_view(t, {}, {}, 6, {"reach element 6"});  // a scalar view at the end
  expect_bad_view(t, {0, 3}, {3, 1}, 7, {"reach offset 7"});
  expect_bad_view(t, {3, 3}, {int64_t{1} << 62, 1}, 0, {"beyond the int64 range"});
  // A view of a view is checked against the storage, which holds more than the view.
  Tensor row = t.as_strided({3}, {1}, 3);
  expect_bad_view(row, {4}, {1}, 3, {"reach element 6", "6 f32 elements"});
  EXPECT_EQ(row.as_strided({6}, {1}, 0).numel(), 6);
  // f64 on the same bytes count in 8-byte elements.
  Tensor d = Tensor::zeros({3}, DType::f64);
  expect_bad_view(d, {2}, {1}, 2, {"reach element 3", "3 f64 elements (24 bytes)"});
}

TEST(Tensor, AsStridedAcceptsEveryViewInsideTheStorage) {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  EXPECT_EQ(t.as_strided({2, 3}, {3, 1}, 0).to_vector<float>(), t.to_vector<float>());     // exactly fits
  EXPECT_EQ(t.as_strided({3}, {1}, 3).to_vector<float>(), (std::vector<float>{3, 4, 5}));  // ends at the end
  EXPECT_EQ(t.as_strided({}, {}, 5).item<float>(), 5.0f);
  EXPECT_EQ(t.as_strided({4, 2}, {0, 5}, 0).to_vector<float>(), (std::vector<float>{0, 5, 0, 5, 0, 5, 0, 5}));
  EXPECT_EQ(t.as_strided({2, 2}, {1, 1}, 3).to_vector<float>(), (std::vector<float>{3, 4, 4, 5}));  // overlaps
  EXPECT_EQ(t.as_strided({0}, {1}, 6).numel(), 0);  // an empty slice at the end
  EXPECT_EQ(t.as_strided({0, 3}, {3, 1}, 6).numel(), 0);
  Tensor none = Tensor::zeros({0});
  EXPECT_EQ(none.as_strided({0, 4}, {4, 1}, 0).numel(), 0);
}

TEST(Tensor, BroadcastingArithmetic) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector<float>({10, 20, 30}, {3});
  EXPECT_EQ((a + b).to_vector<float>(), (std::vector<float>{11, 22, 33, 14, 25, 36}));
  Tensor col = Tensor::from_vector<float>({2, 4}, {2, 1});
  EXPECT_EQ((a / col).to_vector<float>(), (std::vector<float>{0.5f, 1, 1.5f, 1, 1.25f, 1.5f}));
  EXPECT_EQ((a * 2.0 - 1.0).to_vector<float>(), (std::vector<float>{1, 3, 5, 7, 9, 11}));
  EXPECT_THROW(a + Tensor::zeros({2}), ValueError);
  EXPECT_THROW(a + Tensor::zeros({2, 3}, DType::f64), ValueError);
}

TEST(Tensor, Reductions) {
  Tensor a = Tensor::from_vector<float>({1, 5, 3, 4, 2, 6}, {2, 3});
  EXPECT_EQ(sum(a).item<float>(), 21);
  EXPECT_EQ(sum(a, {0}).to_vector<float>(), (std::vector<float>{5, 7, 9}));
  EXPECT_EQ(sum(a, {1}, true).shape(), (Shape{2, 1}));
  EXPECT_FLOAT_EQ(mean(a, {1}).to_vector<float>()[1], 4);
  EXPECT_EQ(amax(a, 1).to_vector<float>(), (std::vector<float>{5, 6}));
  EXPECT_EQ(argmax(a, 1).to_vector<int64_t>(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(argmax(a, 0).to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  // Non-adjacent axes go through a permute.
  Tensor c = Tensor::arange(24).to(DType::f32);
  c = reshape(c, {2, 3, 4});
  EXPECT_EQ(sum(c, {0, 2}).to_vector<float>(), (std::vector<float>{60, 92, 124}));
  EXPECT_THROW(sum(a, {2}), IndexError);
}

TEST(Tensor, MatmulMatchesNaiveLoopsIncludingTransposedViews) {
  Generator g(3);
  Tensor a = g.normal_tensor({5, 7}, 0, 1), b = g.normal_tensor({7, 4}, 0, 1);
  auto naive = [](const Tensor& x, const Tensor& y) {
    auto xv = x.to_vector<float>(), yv = y.to_vector<float>();
    int64_t m = x.size(0), k = x.size(1), n = y.size(1);
    std::vector<float> out(m * n, 0);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
          out[i * n + j] += xv[i * k + p] * yv[p * n + j];
    return out;
  };
  auto check = [&](const Tensor& x, const Tensor& y) {
    auto got = matmul(x, y).to_vector<float>();
    auto want = naive(x, y);
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-4);
  };
  check(a, b);
  check(transpose(transpose(a, 0, 1).contiguous(), 0, 1), b);  // A as a transposed view
  check(a, transpose(transpose(b, 0, 1).contiguous(), 0, 1));  // B as a transposed view
  Tensor batched = matmul(reshape(concat({a, a}, 0), {2, 5, 7}), b);
  EXPECT_EQ(batched.shape(), (Shape{2, 5, 4}));
  EXPECT_THROW(matmul(a, a), ValueError);
}

TEST(Tensor, CastsAndHalfPrecisionStorage) {
  Tensor a = Tensor::from_vector<float>({1.5f, -2.25f, 65504.0f, 1e-3f}, {4});
  auto back = a.to(DType::f16).to(DType::f32).to_vector<float>();
  EXPECT_FLOAT_EQ(back[0], 1.5f);
  EXPECT_FLOAT_EQ(back[1], -2.25f);
  EXPECT_FLOAT_EQ(back[2], 65504.0f);
  EXPECT_NEAR(back[3], 1e-3f, 1e-6);
  auto bf = a.to(DType::bf16).to(DType::f32).to_vector<float>();
  EXPECT_FLOAT_EQ(bf[0], 1.5f);
  EXPECT_NEAR(bf[3], 1e-3f, 1e-5);
  EXPECT_EQ(a.to(DType::i64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 65504, 0}));
}

TEST(Tensor, ToMetaKeepsShapeAndDtypeAndReadingItBackIsAnError) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor m = a.to(Device::meta());
  EXPECT_TRUE(m.device().is_meta());
  EXPECT_EQ(m.shape(), a.shape());
  EXPECT_EQ(m.dtype(), DType::f32);
  EXPECT_TRUE(a.to(DType::f16).to(Device::meta()).dtype() == DType::f16);
  m.fill_(3.0);  // writing a meta tensor is a no-op
  try {
    m.to(Device::cpu());
    FAIL() << "copied a meta tensor's data";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("meta device (f32 [2, 3]) to cpu"), std::string::npos) << e.message();
  }
  EXPECT_THROW(m.item<float>(), Error);
  EXPECT_THROW(m.to_vector<float>(), Error);
  EXPECT_EQ(a.to(Device::cpu()).impl(), a.impl());  // same device: the same tensor
}

TEST(Tensor, DefaultDeviceGuardScopesTheFactoriesDevice) {
  EXPECT_TRUE(default_device().is_cpu());
  {
    DefaultDeviceGuard outer(Device::meta());
    EXPECT_TRUE(Tensor::zeros({3}).device().is_meta());
    EXPECT_TRUE(Tensor::arange(4).device().is_meta());
    EXPECT_TRUE(Tensor::from_vector<float>({1, 2}, {2}).device().is_meta());
    {
      DefaultDeviceGuard inner(Device::cpu());
      EXPECT_TRUE(Tensor::ones({2}).device().is_cpu());
    }
    EXPECT_TRUE(Tensor::full({2}, 1.0).device().is_meta());
    EXPECT_TRUE(Tensor::zeros({2}, DType::f32, Device::cpu()).device().is_cpu());  // an explicit device wins
  }
  EXPECT_TRUE(Tensor::zeros({3}).device().is_cpu());
}

TEST(Generator, SeededStreamsRepeatAndDiffer) {
  Generator a(11), b(11), c(12);
  for (int i = 0; i < 5; ++i) {
    uint64_t x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
  Generator g(5);
  Tensor n = g.normal_tensor({20000}, 0, 1, DType::f64);
  double m = mean(n).item<double>();
  double var = mean(mul(n, n)).item<double>() - m * m;
  EXPECT_NEAR(m, 0.0, 0.03);
  EXPECT_NEAR(var, 1.0, 0.05);
  for (int i = 0; i < 1000; ++i)
    EXPECT_LT(g.below(7), 7u);
}

}  // namespace
}  // namespace loom
