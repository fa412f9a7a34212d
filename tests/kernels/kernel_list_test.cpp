#include <gtest/gtest.h>

#include "loom/core/generator.h"
#include "loom/core/tensor_kernels.h"
#include "loom/kernels.h"

namespace loom::kernels {
namespace {

TEST(KernelList, FirstAcceptingEntryRunsAndReasonsAreReported) {
  KernelList<void(int)> list("test_family");
  int ran = 0;
  list.add(
      DeviceType::CPU, "fast", [](int x) { return x > 10 ? std::string("too large") : std::string(); },
      [&](int) { ran = 1; });
  list.add(DeviceType::CPU, "reference", nullptr, [&](int) { ran = 2; });
  list(3);
  EXPECT_EQ(ran, 1);
  list(30);
  EXPECT_EQ(ran, 2);
  KernelList<void(int)> none("empty_family");
  none.add(
      DeviceType::CPU, "picky", [](int) { return std::string("never"); }, [](int) {});
  try {
    none(1);
    FAIL();
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("picky: never"), std::string::npos) << e.what();
  }
}

// Arguments that name a device, as GemmArgs does (found by argument-dependent lookup).
struct FakeArgs {
  Device device;
};
std::optional<Device> kernel_device_of(const FakeArgs& a) { return a.device; }

TEST(KernelList, DispatchesOnTheArgumentsDeviceAndPassesItsCurrentStream) {
  KernelList<void(const FakeArgs&)> list("fake_family");
  std::string ran;
  KernelContext seen{};
  auto accepts = [](const FakeArgs&) { return std::string(); };
  list.add(DeviceType::CPU, "cpu", accepts, [&](const FakeArgs&) { ran = "cpu"; });
  list.add_in_context(DeviceType::CUDA, "fake_cuda", accepts, [&](const KernelContext& ctx, const FakeArgs&) {
    ran = "cuda";
    seen = ctx;
  });
  list(FakeArgs{Device::cpu()});
  EXPECT_EQ(ran, "cpu");
  list(FakeArgs{Device::cuda(1)});
  EXPECT_EQ(ran, "cuda");
  EXPECT_EQ(seen.device, Device::cuda(1));
  EXPECT_EQ(seen.stream.native, nullptr);  // the default stream
  int queue = 0;
  {
    StreamGuard guard(Stream{Device::cuda(1), &queue});
    list(FakeArgs{Device::cuda(1)});
    EXPECT_EQ(seen.stream.native, &queue);
    list(FakeArgs{Device::cuda(0)});  // the guard set device 1's stream only
    EXPECT_EQ(seen.stream.native, nullptr);
  }
  list(FakeArgs{Device::cuda(1)});
  EXPECT_EQ(seen.stream.native, nullptr);  // restored when the guard left
  try {
    list(FakeArgs{Device::meta()});
    FAIL();
  } catch (const NotImplementedError& e) {
    EXPECT_NE(std::string(e.what()).find("fake_family: no kernel for device meta"), std::string::npos) << e.what();
  }
}

TEST(KernelList, ATensorOnAnotherDeviceChoosesThatDevicesList) {
  KernelList<void(const Tensor&, const Tensor&)> list("pair");
  std::string ran;
  auto accepts = [](const Tensor&, const Tensor&) { return std::string(); };
  list.add(DeviceType::CPU, "cpu", accepts, [&](const Tensor&, const Tensor&) { ran = "cpu"; });
  list.add(DeviceType::Meta, "meta", accepts, [&](const Tensor&, const Tensor&) { ran = "meta"; });
  Tensor host = Tensor::zeros({2});
  Tensor meta = Tensor::zeros({2}, DType::f32, Device::meta());
  list(host, host);
  EXPECT_EQ(ran, "cpu");
  list(host, meta);  // a copy to meta runs meta's entry, as CPU -> CUDA runs CUDA's
  EXPECT_EQ(ran, "meta");
  list(meta, host);
  EXPECT_EQ(ran, "meta");
}

TEST(KernelList, EveryFamilyEndsWithAReferenceOrLibraryEntry) {
  EXPECT_GE(gemm_kernels().entries().size(), 2u);
  EXPECT_EQ(gemm_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(unary_kernels().entries().back().name, "cpu_reference");
  EXPECT_EQ(binary_kernels().entries().back().name, "cpu_reference");
  // core's own tensor operations are kernel families with a CPU and a meta entry
  for (size_t n :
       {copy_kernels().entries(DeviceType::CPU).size(), cast_kernels().entries(DeviceType::CPU).size(),
        fill_kernels().entries(DeviceType::CPU).size(), random_fill_kernels().entries(DeviceType::CPU).size(),
        copy_kernels().entries(DeviceType::Meta).size(), fill_kernels().entries(DeviceType::Meta).size()})
    EXPECT_GE(n, 1u);
  EXPECT_TRUE(copy_kernels().entries(DeviceType::CUDA).empty());  // this build has no CUDA backend
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
