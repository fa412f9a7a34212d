// Module::to and the meta device: a model moves between devices in place, packed
// or not, and a model on meta follows shapes with no data.
#include <gtest/gtest.h>

#include <cstring>

#include "../support/test_support.h"  // tests/ is on the include path, not tests/support/
#include "loom/autograd.h"
#include "loom/core/allocator.h"
#include "loom/core/tensor_kernels.h"
#include "loom/nn.h"

namespace loom::nn {
namespace {

// A stand-in second device: host memory under DeviceType::CUDA, with only the
// kernels moving a model needs (contiguous copies, fills). Registering it is what
// a real backend does: an allocator and its entries in core's kernel lists. This
// test binary has no other use for CUDA, so the registration touches nothing else.
class HostBackedAllocator : public Allocator {
 public:
  DataPtr allocate(size_t nbytes) override {
    void* p = std::aligned_alloc(kAlignment, (nbytes + kAlignment - 1) / kAlignment * kAlignment + kAlignment);
    return DataPtr(p, [](void* q) { std::free(q); });
  }
  Device device() const override { return Device::cuda(0); }
};

void register_fake_device_once() {
  static bool done = [] {
    static HostBackedAllocator allocator;
    register_allocator(DeviceType::CUDA, allocator);
    auto contiguous_same_dtype = [](const Tensor& src, const Tensor& dst) {
      return src.is_contiguous() && dst.is_contiguous() && src.dtype() == dst.dtype() ? std::string()
                                                                                      : std::string("not contiguous");
    };
    copy_kernels().add(DeviceType::CUDA, "fake_cuda", contiguous_same_dtype, [](const Tensor& src, const Tensor& dst) {
      std::memcpy(dst.raw_data(), src.raw_data(), dst.nbytes());
    });
    fill_kernels().add(
        DeviceType::CUDA, "fake_cuda", [](const Tensor& dst, double) { return std::string(); },
        [](const Tensor& dst, double v) {
          float* p = static_cast<float*>(dst.raw_data());
          for (int64_t i = 0; i < dst.numel(); ++i)
            p[i] = static_cast<float>(v);
        });
    return true;
  }();
  (void)done;
}

std::shared_ptr<Sequential> mlp(Generator& gen) {
  return std::make_shared<Sequential>(std::make_shared<Linear>(4, 3, true, gen), std::make_shared<ReLU>(),
                                      std::make_shared<Linear>(3, 2, true, gen));
}

NamedTensors clones(const NamedTensors& state) {
  NamedTensors out;
  for (const auto& [name, t] : state)
    out.emplace_back(name, t.clone());
  return out;
}

TEST(ModuleTo, MovesEveryTensorInPlaceAndBack) {
  register_fake_device_once();
  Generator gen(3);
  auto model = mlp(gen);
  auto first = std::dynamic_pointer_cast<Linear>((*model)[0]);
  const NamedTensors before = clones(model->state_dict());
  const Tensor weight = first->weight();  // a handle taken before the move sees it
  model->to(Device::cuda(0));
  for (const auto& [name, t] : model->state_dict())
    EXPECT_EQ(t.device(), Device::cuda(0)) << name;
  EXPECT_EQ(weight.device(), Device::cuda(0));
  model->to(Device::cpu());
  const NamedTensors after = model->state_dict();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(after[i].second.device().is_cpu()) << after[i].first;
    EXPECT_EQ(testing::max_abs_diff(after[i].second, before[i].second), 0.0) << after[i].first;
  }
}

TEST(ModuleTo, APackedModelStaysPackedOnTheNewDevice) {
  register_fake_device_once();
  Generator gen(4);
  auto model = mlp(gen);
  Tensor x = Generator(5).uniform_tensor({3, 4}, -1, 1);
  sum((*model)(x)).backward();
  model->pack_parameters();
  const NamedTensors params = clones(model->named_parameters());
  NamedTensors grads;
  for (const auto& [name, p] : model->named_parameters())
    grads.emplace_back(name, p.grad().clone());

  model->to(Device::cuda(0));
  const Tensor arena = model->parameter_arena(), grad_arena = model->gradient_arena();
  EXPECT_EQ(arena.device(), Device::cuda(0));
  EXPECT_EQ(grad_arena.device(), Device::cuda(0));
  for (const auto& [name, p] : model->named_parameters()) {
    EXPECT_EQ(p.storage().data(), arena.storage().data()) << name;  // still a view into the arena
    EXPECT_EQ(p.grad().storage().data(), grad_arena.storage().data()) << name;
  }

  model->to(Device::cpu());
  const NamedTensors back = model->named_parameters();
  for (size_t i = 0; i < back.size(); ++i) {
    EXPECT_EQ(back[i].second.storage().data(), model->parameter_arena().storage().data());
    EXPECT_EQ(testing::max_abs_diff(back[i].second, params[i].second), 0.0) << back[i].first;
    EXPECT_EQ(testing::max_abs_diff(back[i].second.grad(), grads[i].second), 0.0) << back[i].first;
  }
  // and it still trains: the forward runs on the moved-back arena
  EXPECT_TRUE((*model)(x).device().is_cpu());
}

TEST(ModuleTo, AModelOnMetaGivesOutputShapesWithoutData) {
  Generator gen(6);
  auto model = mlp(gen);
  model->to(Device::meta());
  for (const auto& [name, p] : model->named_parameters())
    EXPECT_TRUE(p.device().is_meta()) << name;
  Tensor x = Tensor::empty({7, 4}, DType::f32, Device::meta());
  Tensor y = (*model)(x);
  EXPECT_TRUE(y.device().is_meta());
  EXPECT_EQ(y.shape(), (Shape{7, 2}));
  EXPECT_THROW(model->to(Device::cpu()), Error);  // a meta tensor has no data to copy back
}

TEST(ModuleTo, BuiltUnderAMetaDefaultDeviceNoParameterHasMemory) {
  const MemoryStats before = memory_stats();
  std::shared_ptr<Sequential> model;
  {
    DefaultDeviceGuard on_meta(Device::meta());
    Generator gen(7);
    model = std::make_shared<Sequential>(std::make_shared<Linear>(4096, 4096, true, gen));
  }
  EXPECT_TRUE(model->named_parameters()[0].second.device().is_meta());
  EXPECT_LT(memory_stats().live_bytes - before.live_bytes, int64_t{1} << 20);  // not the 64 MiB weight
  EXPECT_TRUE(Tensor::zeros({2}).device().is_cpu());                           // the guard is gone
}

}  // namespace
}  // namespace loom::nn

namespace loom::nn {
namespace {

// A module with parameters of two dtypes (an f32 weight, an f64 scale, an f32 bias).
class MixedDtypes : public Module {
 public:
  MixedDtypes() {
    register_parameter("weight", Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}));
    register_parameter("scale", Tensor::from_vector<double>({0.5, 0.25}, {2}));
    register_parameter("bias", Tensor::from_vector<float>({7, 8}, {2}));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "MixedDtypes()"; }
};

TEST(ArenaGroups, PackingGroupsParametersByDtypeInOrder) {
  MixedDtypes m;
  m.pack_parameters();
  const auto& groups = m.arena_groups();
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].dtype, DType::f32);
  EXPECT_EQ(groups[0].indices, (std::vector<size_t>{0, 2}));  // weight then bias, back to back
  EXPECT_EQ(groups[0].parameters.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 7, 8}));
  EXPECT_EQ(groups[1].dtype, DType::f64);
  EXPECT_EQ(groups[1].parameters.to_vector<double>(), (std::vector<double>{0.5, 0.25}));
  const NamedTensors params = m.named_parameters();
  EXPECT_EQ(params[2].second.storage().data(), groups[0].parameters.storage().data());
  EXPECT_EQ(params[2].second.offset(), 4);
  EXPECT_EQ(params[1].second.grad().storage().data(), groups[1].gradients.storage().data());
  const std::string msg = testing::error_message([&] { m.parameter_arena(); });
  EXPECT_NE(msg.find("2 dtype groups (the first f32, the second f64)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace loom::nn
