// Every conv2d kernel-list entry against the direct-loop reference, at shapes that
// cover stride, padding, odd sizes, 1x1 and non-square kernels and batch 1, on
// one and two threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "kernels/cpu/simd_kernels.h"
#include "kernels/isa_fixture.h"
#include "loom/core/generator.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels {
namespace {

struct Shape2d {
  int64_t n, c, h, w, oc, kh, kw, sh, sw, ph, pw;
};

Window2d geometry(const Shape2d& s) {
  Window2d g;
  g.n = s.n;
  g.c = s.c;
  g.h = s.h;
  g.w = s.w;
  g.oc = s.oc;
  g.kh = s.kh;
  g.kw = s.kw;
  g.sh = s.sh;
  g.sw = s.sw;
  g.ph = s.ph;
  g.pw = s.pw;
  g.oh = (s.h + 2 * s.ph - s.kh) / s.sh + 1;
  g.ow = (s.w + 2 * s.pw - s.kw) / s.sw + 1;
  return g;
}

const Shape2d kShapes[] = {
    {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1},       // odd sizes, few channels
    {3, 4, 9, 8, 6, 3, 3, 2, 2, 1, 1},       // stride 2
    {1, 16, 14, 14, 32, 3, 3, 1, 1, 1, 1},   // batch 1, blocked-friendly channels
    {2, 8, 11, 10, 16, 5, 3, 2, 1, 2, 1},    // non-square kernel, mixed stride/padding
    {4, 32, 5, 5, 16, 1, 1, 1, 1, 0, 0},     // 1x1
    {2, 16, 6, 6, 16, 3, 3, 2, 2, 0, 0},     // last window ends before the edge
    {8, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1},    // the reference CNN's first layer
    {8, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1},   // and its second
    {3, 5, 10, 7, 7, 3, 3, 1, 1, 0, 0},      // no padding
    {16, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1},  // several cache-sized oneDNN steps per thread
};

std::string describe(const Shape2d& s) {
  return "n=" + std::to_string(s.n) + " c=" + std::to_string(s.c) + " hw=" + std::to_string(s.h) + "x" +
         std::to_string(s.w) + " oc=" + std::to_string(s.oc) + " k=" + std::to_string(s.kh) + "x" +
         std::to_string(s.kw) + " s=" + std::to_string(s.sh) + "x" + std::to_string(s.sw) +
         " p=" + std::to_string(s.ph) + "x" + std::to_string(s.pw);
}

// max |a - ref| relative to max |ref|.
double relative_error(const Tensor& a, const Tensor& ref) {
  const float* x = a.data<float>();
  const float* r = ref.data<float>();
  double diff = 0, scale = 1e-6;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    diff = std::max(diff, std::abs(double(x[i]) - double(r[i])));
    scale = std::max(scale, std::abs(double(r[i])));
  }
  return diff / scale;
}

template <typename List>
const typename List::Entry& reference_of(const List& list) {
  EXPECT_EQ(list.entries().back().name, "cpu_reference");
  return list.entries().back();
}

class ConvEntries : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    saved_ = runtime::num_threads();
    runtime::set_num_threads(GetParam());
  }
  void TearDown() override { runtime::set_num_threads(saved_); }
  int saved_ = 1;
};

constexpr double kTolerance = 2e-5;

TEST_P(ConvEntries, ForwardMatchesReference) {
  const auto& list = conv2d_forward_kernels();
  for (const Shape2d& s : kShapes)
    for (bool with_bias : {true, false}) {
      const Window2d g = geometry(s);
      Generator gen(11);
      Tensor x = gen.normal_tensor({g.n, g.c, g.h, g.w}, 0, 1), w = gen.normal_tensor({g.oc, g.c, g.kh, g.kw}, 0, 1);
      Tensor b = with_bias ? gen.normal_tensor({g.oc}, 0, 1) : Tensor();
      Tensor ref = Tensor::empty({g.n, g.oc, g.oh, g.ow});
      reference_of(list).run(g, x, w, b, ref);
      int ran = 0;
      for (const auto& e : list.entries()) {
        Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow});
        if (e.name == "cpu_reference" || !e.declines(g, x, w, b, y).empty())
          continue;
        e.run(g, x, w, b, y);
        ++ran;
        EXPECT_LT(relative_error(y, ref), kTolerance) << e.name << " " << describe(s) << " bias=" << with_bias;
      }
      EXPECT_GE(ran, 1) << describe(s);
    }
}

TEST_P(ConvEntries, BackwardInputMatchesReference) {
  const auto& list = conv2d_backward_input_kernels();
  for (const Shape2d& s : kShapes) {
    const Window2d g = geometry(s);
    Generator gen(12);
    Tensor gy = gen.normal_tensor({g.n, g.oc, g.oh, g.ow}, 0, 1), w = gen.normal_tensor({g.oc, g.c, g.kh, g.kw}, 0, 1);
    Tensor ref = Tensor::empty({g.n, g.c, g.h, g.w});
    reference_of(list).run(g, gy, w, ref);
    for (const auto& e : list.entries()) {
      Tensor gx = Tensor::empty({g.n, g.c, g.h, g.w});
      std::memset(gx.raw_data(), 0x7f, sizeof(float) * gx.numel());  // every element must be written
      if (e.name == "cpu_reference" || !e.declines(g, gy, w, gx).empty())
        continue;
      e.run(g, gy, w, gx);
      EXPECT_LT(relative_error(gx, ref), kTolerance) << e.name << " " << describe(s);
    }
  }
}

TEST_P(ConvEntries, BackwardWeightMatchesReferenceAndRepeatsBitForBit) {
  const auto& list = conv2d_backward_weight_kernels();
  for (const Shape2d& s : kShapes) {
    const Window2d g = geometry(s);
    Generator gen(13);
    Tensor x = gen.normal_tensor({g.n, g.c, g.h, g.w}, 0, 1), gy = gen.normal_tensor({g.n, g.oc, g.oh, g.ow}, 0, 1);
    Tensor ref = Tensor::empty({g.oc, g.c, g.kh, g.kw});
    reference_of(list).run(g, x, gy, ref);
    for (const auto& e : list.entries()) {
      Tensor gw = Tensor::empty({g.oc, g.c, g.kh, g.kw}), again = Tensor::empty({g.oc, g.c, g.kh, g.kw});
      std::memset(gw.raw_data(), 0x7f, sizeof(float) * gw.numel());
      if (e.name == "cpu_reference" || !e.declines(g, x, gy, gw).empty())
        continue;
      e.run(g, x, gy, gw);
      e.run(g, x, gy, again);
      EXPECT_LT(relative_error(gw, ref), kTolerance) << e.name << " " << describe(s);
      EXPECT_EQ(std::memcmp(gw.raw_data(), again.raw_data(), sizeof(float) * gw.numel()), 0)
          << e.name << " " << describe(s);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, ConvEntries, ::testing::Values(1, 2));

TEST(ConvLists, ListsRunFastestFirstAndEndWithTheReference) {
  EXPECT_EQ(conv2d_forward_kernels().entries().front().name, "onednn");
  EXPECT_EQ(conv2d_forward_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(conv2d_backward_input_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(conv2d_backward_weight_kernels().entries().front().name, "onednn");
}

TEST(ConvLists, OneDnnTakesTheReferenceCnnsSecondLayerAndLeavesTheFirst) {
  for (const Shape2d& s : {kShapes[6], kShapes[7], kShapes[5]}) {
    const Window2d g = geometry(s);
    Tensor x = Tensor::empty({g.n, g.c, g.h, g.w}), w = Tensor::empty({g.oc, g.c, g.kh, g.kw});
    Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow});
    const std::string why = conv2d_forward_kernels().entries().front().declines(g, x, w, Tensor(), y);
    if (s.c < 8)
      EXPECT_NE(why.find("input channels"), std::string::npos) << why;
    else
      EXPECT_EQ(why, "") << describe(s);
  }
}

// NOTE [Direct small-channel convolution]: the direct forward entry on each ISA (one
// case per ISA, skipped where this CPU lacks it), against the reference, at shapes that
// hit its tails (output width not a multiple of the vector, output channels not a
// multiple of 4, wide kernels, uneven padding), on 2 threads.
class DirectSmallChannelConv : public testing::IsaTest {
 protected:
  void SetUp() override {
    saved_threads_ = runtime::num_threads();
    testing::IsaTest::SetUp();
    if (!IsSkipped())
      runtime::set_num_threads(2);
  }
  void TearDown() override {
    runtime::set_num_threads(saved_threads_);
    testing::IsaTest::TearDown();
  }

 private:
  int saved_threads_ = 1;
};
INSTANTIATE_TEST_SUITE_P(Isa, DirectSmallChannelConv, ::testing::Values(cpu::simd::Isa::avx512, cpu::simd::Isa::avx2),
                         testing::isa_case_name);

TEST_P(DirectSmallChannelConv, MatchesReference) {
  const Shape2d shapes[] = {
      {3, 3, 9, 21, 5, 3, 5, 1, 1, 1, 2}, {2, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1}, {2, 2, 5, 5, 7, 3, 3, 1, 1, 0, 0}};
  for (const Shape2d& s : shapes) {
    const Window2d g = geometry(s);
    Generator gen(31);
    Tensor x = gen.normal_tensor({g.n, g.c, g.h, g.w}, 0, 1), w = gen.normal_tensor({g.oc, g.c, g.kh, g.kw}, 0, 1);
    Tensor b = gen.normal_tensor({g.oc}, 0, 1);
    const auto& fwd = conv2d_forward_kernels();
    Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow}), y_ref = Tensor::empty({g.n, g.oc, g.oh, g.ow});
    int ran = 0;
    for (const auto& e : fwd.entries())
      if (e.name == "direct_small_c") {
        ASSERT_EQ(e.declines(g, x, w, b, y), "") << describe(s);
        e.run(g, x, w, b, y);
        ++ran;
      }
    ASSERT_EQ(ran, 1) << "no direct_small_c entry in " << fwd.family();
    reference_of(fwd).run(g, x, w, b, y_ref);
    EXPECT_LT(relative_error(y, y_ref), kTolerance) << isa_name() << " " << describe(s);
  }
}

TEST(ConvLists, F32OnlyEntriesDeclineF64WithAReason) {
  const Window2d g = geometry(kShapes[0]);
  Tensor x = Tensor::empty({g.n, g.c, g.h, g.w}, DType::f64), w = Tensor::empty({g.oc, g.c, g.kh, g.kw}, DType::f64);
  Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow}, DType::f64);
  int accepting = 0;
  for (const auto& e : conv2d_forward_kernels().entries()) {
    const std::string why = e.declines(g, x, w, Tensor(), y);
    if (e.name == "onednn" || e.name == "im2col_split")
      EXPECT_NE(why.find("f64"), std::string::npos) << e.name << ": " << why;
    accepting += why.empty();
  }
  EXPECT_GE(accepting, 2);  // im2col_gemm and the reference
}

}  // namespace
}  // namespace loom::kernels
