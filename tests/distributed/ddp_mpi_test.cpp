// DDP under mpirun equals one process on the global batch, for every allreduce
// algorithm and bucket size; compressed DDP stays close.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ddp_strategies.h"
#include "loom/autograd/grad_hooks.h"
#include "loom/distributed/ddp.h"

namespace loom::distributed {
namespace {

using namespace testing_;

TEST(DdpMpi, EqualsSingleProcessForEveryAlgorithmAndBucketSize) {
  const Tensor expected = reference_parameters(6, 0.9);
  for (auto algorithm :
       {AllreduceAlgorithm::automatic, AllreduceAlgorithm::ring, AllreduceAlgorithm::recursive_doubling,
        AllreduceAlgorithm::native, AllreduceAlgorithm::shared_memory}) {
    for (double bucket_mb : {0.001, 4.0}) {  // many small buckets, one big one
      DistOptions d;
      d.mode = DistMode::ddp;
      d.algorithm = algorithm;
      d.bucket_mb = bucket_mb;
      const Tensor got = strategy_parameters(d, 6, 0.9);
      EXPECT_LT(loom::testing::max_abs_diff(got, expected), 2e-5)
          << algorithm_name(algorithm) << ", bucket " << bucket_mb << " MB";
    }
  }
}

// One zero parameter per (name, size, dtype), in order: models of several dtype groups.
class DtypeParameters : public nn::Module {
 public:
  DtypeParameters(std::initializer_list<std::tuple<const char*, int64_t, DType>> params) {
    for (const auto& [name, size, dtype] : params)
      register_parameter(name, Tensor::zeros({size}, dtype));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "DtypeParameters()"; }
};

TEST(DdpMpi, AveragesEveryGradientDtypeInItsOwnGroup) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  // Interleaved, so that buckets must break at every change of group.
  DtypeParameters model(
      {{"a", 5, DType::f32}, {"b", 3, DType::bf16}, {"c", 4, DType::f64}, {"d", 2, DType::f32}, {"e", 2, DType::f16}});
  model.pack_parameters();
  ASSERT_EQ(model.arena_groups().size(), 4u);
  // Rank r's gradient element j is (r + 1) * (j + 1); the mean over ranks is
  // (p + 1) / 2 * (j + 1), exact in every dtype here (halves of small integers).
  auto set_gradients = [&] {
    for (const Tensor& param : model.parameters()) {
      std::vector<double> g(static_cast<size_t>(param.numel()));
      for (size_t j = 0; j < g.size(); ++j)
        g[j] = (r + 1.0) * (j + 1.0);
      param.grad().copy_(Tensor::from_vector(g, {param.numel()}));
    }
  };
  for (double bucket_mb : {4.0, 1e-6}) {
    set_gradients();
    GradientBuckets buckets(model, comm, DdpOptions{bucket_mb, AllreduceAlgorithm::automatic, "none", 0.01, true});
    EXPECT_EQ(buckets.num_buckets(), 5);  // the groups interleave: no two neighbours share a bucket
    buckets.finish();
    for (const auto& [name, param] : model.named_parameters()) {
      const auto got = param.grad().to(DType::f64).to_vector<double>();
      for (size_t j = 0; j < got.size(); ++j)
        EXPECT_EQ(got[j], (p + 1) / 2.0 * (j + 1.0)) << name << "[" << j << "], " << dtype_name(param.dtype());
    }
  }
}

// Model averaging and the parameter server keep f32 state (NOTE [f32 master
// copy]): a model with f64 and bf16 groups averages through an f32 copy, and each
// rank ends with the mean of the ranks' parameters, rounded once to its dtype
// (bf16 parameters take the same path, but loom's optimizers step f32 and f64).
TEST(DdpMpi, StrategiesWithF32StateTakeOtherDtypes) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  DtypeParameters model({{"w", 4, DType::f32}, {"s", 2, DType::f64}, {"v", 3, DType::f32}});
  model.pack_parameters();
  auto optimizer = optim::make_optimizer("sgd", model.parameters(), {.lr = 1.0});
  DistOptions d;
  d.mode = DistMode::localsgd;
  d.sync_every = 1;
  auto strategy = make_strategy(d, comm, model, *optimizer);
  strategy->start();  // rank 0's zeros everywhere
  // Each rank steps by its own gradient (r + 1) * 0.5; the round averages.
  for (Tensor& param : model.parameters())
    param.set_grad(Tensor::full(param.shape(), 0.5 * (r + 1), param.dtype()));
  strategy->step(*optimizer, 0);
  const double mean = -0.5 * (p + 1) / 2.0;  // the mean of -(r + 1) * 0.5 over the ranks
  for (const auto& [name, param] : model.named_parameters())
    for (double v : param.to(DType::f64).to_vector<double>())
      EXPECT_NEAR(v, mean, 1e-6) << name << " on rank " << r;
}

TEST(DdpMpi, SmallBucketsSplitTheArenaInReverseOrder) {
  auto comm = mpi_world();
  auto model = small_mlp(7);
  GradientBuckets buckets(*model, comm, DdpOptions{0.001, AllreduceAlgorithm::automatic, "none", 0.01, true});
  EXPECT_GE(buckets.num_buckets(), 2);
  auto [x, y] = shard(global_batch(0), comm->rank(), comm->size());
  Tensor loss = cross_entropy((*model)(x), y);
  model->zero_grad();
  buckets.prepare(loss);
  loss.backward();
  buckets.finish();
  EXPECT_LE(buckets.overlapped_buckets(), buckets.num_buckets());
}

// One DDP step with small buckets. With `emulate_engine` the test plays the engine's
// part of NOTE [Leaf gradient hooks] where the engine does not: one call per
// parameter, last layer first (each parameter of small_mlp has one edge).
struct DdpStep {
  Tensor grads;  // averaged
  int64_t buckets = 0, overlapped = 0;
  int64_t engine_hook_calls = 0;  // made by loss.backward() itself
};

DdpStep ddp_step(bool overlap, bool emulate_engine) {
  auto comm = mpi_world();
  auto model = small_mlp(7);
  GradientBuckets buckets(*model, comm, DdpOptions{0.0002, AllreduceAlgorithm::automatic, "none", 0.01, overlap});
  std::atomic<int64_t> calls{0};
  autograd::ScopedLeafGradHook counter([&](const TensorImpl*) { ++calls; });
  auto [x, y] = shard(global_batch(0), comm->rank(), comm->size());
  Tensor loss = cross_entropy((*model)(x), y);
  model->zero_grad();
  buckets.prepare(loss);
  loss.backward();
  DdpStep r;
  r.engine_hook_calls = calls.load();
  if (emulate_engine && r.engine_hook_calls == 0) {
    auto params = model->parameters();
    for (size_t i = params.size(); i-- > 0;)
      autograd::run_leaf_grad_hooks(params[i].impl());
  }
  if (overlap) {
    // Once every bucket is complete the communication thread starts all but the last
    // (NOTE [DDP buckets]) by itself; wait for that rather than racing it (finish()
    // would take them over).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (buckets.launched_buckets() < buckets.num_buckets() - 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  buckets.finish();
  r.buckets = buckets.num_buckets();
  r.overlapped = buckets.overlapped_buckets();
  r.grads = model->gradient_arena().clone();
  return r;
}

TEST(DdpMpi, BucketsAreReducedBeforeFinishWhenLeafHooksFire) {
  const DdpStep after = ddp_step(false, false);  // every bucket reduced in finish()
  EXPECT_EQ(after.overlapped, 0);
  const DdpStep during = ddp_step(true, true);
  EXPECT_GE(during.buckets, 3);
  EXPECT_EQ(during.overlapped, during.buckets - 1) << "every bucket but the last should start before finish()";
  EXPECT_EQ(loom::testing::max_abs_diff(during.grads, after.grads), 0.0) << "overlap must not change the result";
}

// src/autograd/engine.cpp calls run_leaf_grad_hooks (NOTE [Leaf gradient hooks]), so
// a real backward, with no emulation, starts the buckets before finish(). An engine
// that stops calling them fails here rather than silently losing the overlap.
TEST(DdpMpi, EngineLeafHooksGiveOverlap) {
  const DdpStep r = ddp_step(true, false);
  ASSERT_GT(r.engine_hook_calls, 0) << "loss.backward() called no leaf gradient hook: the engine must call "
                                       "run_leaf_grad_hooks once per leaf edge, or DDP reduces only after backward";
  EXPECT_GE(r.buckets, 3);
  EXPECT_EQ(r.overlapped, r.buckets - 1) << "every bucket but the last should start before finish()";
}

// A parameter that this rank's loss does not reach contributes zeros, although its
// buffer still holds the previous step's gradient under zero_grad()'s mark (NOTE
// [Lazy zero gradient]); every rank ends with the same average.
TEST(DdpMpi, UnreachedParametersContributeZeros) {
  auto comm = mpi_world();
  auto model = small_mlp(7);
  GradientBuckets buckets(*model, comm, DdpOptions{4.0, AllreduceAlgorithm::automatic, "none", 0.01, true});
  const std::vector<Tensor> params = model->parameters();
  const Tensor first = params.front(), last = params.back();
  auto step = [&](const Tensor& loss) {
    model->zero_grad();
    buckets.prepare(loss);
    loss.backward();
    buckets.finish();
  };
  step(sum(mul_scalar(first, 5.0)) + sum(mul_scalar(last, 5.0)));  // both gradients 5 everywhere
  step(comm->rank() == 0 ? sum(last) : sum(first));                // gradient 1 where reached
  const double p = comm->size();
  EXPECT_EQ(loom::testing::max_abs_diff(last.grad(), Tensor::full(last.shape(), 1.0 / p)), 0.0);
  EXPECT_LT(loom::testing::max_abs_diff(first.grad(), Tensor::full(first.shape(), (p - 1) / p)), 1e-7);
}

TEST(DdpMpi, CompressedGradientsStayClose) {
  DistOptions d;
  d.mode = DistMode::ddp;
  expect_compressed_close_to_reference(d);
}

}  // namespace
}  // namespace loom::distributed
