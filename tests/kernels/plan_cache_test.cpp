// NOTE [Plan cache]: oneDNN convolution plans are bounded, least recently used
// out, and a plan the cache dropped is rebuilt with the same results.
#include <gtest/gtest.h>

#include "kernels/cpu/onednn_conv.h"
#include "loom/autograd/ops.h"
#include "loom/core/generator.h"
#include "support/test_support.h"

namespace loom::kernels::cpu {
namespace {

Window2d geometry(int64_t size) {
  Window2d g;
  g.n = 2, g.c = 16, g.h = size, g.w = size, g.oc = 16, g.kh = g.kw = 3, g.ph = g.pw = 1;
  g.oh = size, g.ow = size;
  return g;
}

TEST(PlanCache, HoldsAtMostItsCapacityAndRebuildsDroppedPlans) {
  Generator gen(1);
  Tensor w = gen.normal_tensor({16, 16, 3, 3}, 0, 0.1);
  std::vector<Tensor> first;
  const size_t previous = set_onednn_conv_plan_capacity(3);
  for (int round = 0; round < 2; ++round) {
    for (int64_t size : {6, 7, 8, 9, 10}) {
      const Window2d g = geometry(size);
      Tensor x = Generator(size).normal_tensor({g.n, g.c, g.h, g.w}, 0, 1);
      if (!conv2d_forward_onednn_declines(g, x, w, Tensor(), Tensor::empty({g.n, g.oc, g.oh, g.ow})).empty())
        GTEST_SKIP() << "oneDNN declines this geometry on this CPU";
      Tensor y = Tensor::empty({g.n, g.oc, g.oh, g.ow});
      conv2d_forward_onednn(g, x, w, Tensor(), y);
      EXPECT_LE(onednn_conv_cached_plans(), 3u);
      if (round == 0)
        first.push_back(y);
      else  // the plan was evicted and built again: the same bits
        EXPECT_EQ(testing::max_abs_diff(y, first[static_cast<size_t>(size - 6)]), 0.0) << size;
    }
  }
  set_onednn_conv_plan_capacity(previous);
  EXPECT_EQ(set_onednn_conv_plan_capacity(previous), previous);
}

}  // namespace
}  // namespace loom::kernels::cpu
