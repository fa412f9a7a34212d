#include <gtest/gtest.h>

#include "loom/core/generator.h"
#include "loom/kernels.h"

namespace loom::kernels {
namespace {

TEST(KernelList, FirstAcceptingEntryRunsAndReasonsAreReported) {
  KernelList<void(int)> list("test_family");
  int ran = 0;
  list.add(
      "fast", [](int x) { return x > 10 ? std::string("too large") : std::string(); }, [&](int) { ran = 1; });
  list.add("reference", nullptr, [&](int) { ran = 2; });
  list(3);
  EXPECT_EQ(ran, 1);
  list(30);
  EXPECT_EQ(ran, 2);
  KernelList<void(int)> none("empty_family");
  none.add(
      "picky", [](int) { return std::string("never"); }, [](int) {});
  try {
    none(1);
    FAIL();
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("picky: never"), std::string::npos) << e.what();
  }
}

TEST(KernelList, EveryFamilyEndsWithAReferenceOrLibraryEntry) {
  EXPECT_GE(gemm_kernels().entries().size(), 2u);
  EXPECT_EQ(gemm_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(unary_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(binary_kernels().entries().back().name, "cpu_reference");
}

TEST(Gemm, OpenBlasEntryAgreesWithReference) {
  Generator g(9);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const int64_t m = 17, n = 13, k = 29;
      Tensor a = g.normal_tensor(ta ? Shape{k, m} : Shape{m, k}, 0, 1);
      Tensor b = g.normal_tensor(tb ? Shape{n, k} : Shape{k, n}, 0, 1);
      Tensor c1 = Tensor::zeros({m, n}), c2 = Tensor::zeros({m, n});
      GemmArgs args;
      args.trans_a = ta;
      args.trans_b = tb;
      args.m = m;
      args.n = n;
      args.k = k;
      args.a = a.raw_data();
      args.lda = a.size(1);
      args.b = b.raw_data();
      args.ldb = b.size(1);
      args.c = c1.raw_data();
      args.ldc = n;
      gemm_kernels().entries()[0].run(args);
      args.c = c2.raw_data();
      gemm_kernels().entries().back().run(args);
      auto v1 = c1.to_vector<float>(), v2 = c2.to_vector<float>();
      for (size_t i = 0; i < v1.size(); ++i)
        ASSERT_NEAR(v1[i], v2[i], 1e-4) << ta << tb;
    }
}

TEST(Elementwise, RejectsIntegerTensorsWithAReason) {
  Tensor a = Tensor::zeros({3}, DType::i64);
  EXPECT_THROW(unary_kernels()(UnaryOp::relu, a, a, 0, 0), NotImplementedError);
}

}  // namespace
}  // namespace loom::kernels
