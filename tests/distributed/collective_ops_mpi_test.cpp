// Collectives as autograd ops (loom/distributed/collective_ops.h): forward values,
// and gradients checked by finite differences of the whole job's loss, across ranks.
#include "loom/distributed/collective_ops.h"

#include <gtest/gtest.h>

#include <functional>

#include "loom/autograd.h"

namespace loom::distributed {
namespace {

using Fn = std::function<Tensor(const Tensor&)>;

// The job's loss: every rank's sum(fn(x) * w), summed over the ranks.
double job_loss(const Fn& fn, const Tensor& x, const Tensor& w, Communicator& world) {
  NoGradGuard no_grad;
  double loss = sum(mul(fn(x), w)).item_double();
  world.allreduce(&loss, 1, DType::f64, ReduceOp::sum);
  return loss;
}

// Each rank differentiates its own loss; through the collectives' backward that
// gives the gradient of the job's loss with respect to this rank's x, which is
// compared with central differences, perturbing one element of one rank at a time.
void check_gradients(const Fn& fn, const Shape& shape) {
  auto world = mpi_world();
  const int r = world->rank();
  Tensor x = Generator(100 + r).uniform_tensor(shape, -1, 1, DType::f64).set_requires_grad(true);
  Tensor out = fn(x);
  Tensor w = Generator(200 + r).uniform_tensor(out.shape(), 0.5, 1.5, DType::f64);
  autograd::backward(sum(mul(out, w)));
  ASSERT_TRUE(x.grad().defined());
  const auto analytic = x.grad().to_vector<double>();
  const double eps = 1e-6;
  for (int p = 0; p < world->size(); ++p) {
    for (int64_t i = 0; i < x.numel(); ++i) {
      double* xi = x.data<double>() + i;
      const double orig = *xi;
      if (r == p)
        *xi = orig + eps;
      const double plus = job_loss(fn, x, w, *world);
      if (r == p)
        *xi = orig - eps;
      const double minus = job_loss(fn, x, w, *world);
      *xi = orig;
      if (r == p)
        EXPECT_NEAR(analytic[i], (plus - minus) / (2 * eps), 1e-6) << "rank " << p << " element " << i;
    }
  }
}

TEST(CollectiveOps, AllReduceSumsAndItsGradientIsTheSumOfTheRanksGradients) {
  auto world = mpi_world();
  const int r = world->rank(), p = world->size();
  Tensor y = all_reduce(Tensor::from_vector(std::vector<float>{1.0f * r, 2.0f}, {2}), world);
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{p * (p - 1) / 2.0f, 2.0f * p}));
  check_gradients([&](const Tensor& x) { return all_reduce(mul(x, x), world); }, {2, 3});
  check_gradients([&](const Tensor& x) { return all_reduce(x, world, /*average=*/true); }, {4});
}

TEST(CollectiveOps, AllGatherAndReduceScatterAreEachOthersBackward) {
  auto world = mpi_world();
  const int r = world->rank(), p = world->size();
  Tensor gathered = all_gather(Tensor::from_vector(std::vector<float>{1.0f * r}, {1, 1}), world);
  ASSERT_EQ(gathered.shape(), (Shape{p, 1}));
  for (int i = 0; i < p; ++i)
    EXPECT_EQ(gathered.to_vector<float>()[i], static_cast<float>(i));
  // Rank r gets block r of the sum: every rank gives rows 0..2p-1 valued by row index.
  std::vector<float> rows(2 * p);
  for (int i = 0; i < 2 * p; ++i)
    rows[i] = static_cast<float>(i);
  Tensor block = reduce_scatter(Tensor::from_vector(rows, {2 * p}), world);
  EXPECT_EQ(block.to_vector<float>(), (std::vector<float>{2.0f * r * p, (2.0f * r + 1) * p}));
  check_gradients([&](const Tensor& x) { return all_gather(mul(x, x), world); }, {2, 3});
  check_gradients([&](const Tensor& x) { return reduce_scatter(mul(x, x), world); }, {2 * p, 2});
}

TEST(CollectiveOps, SendAndRecvCarryActivationsForwardAndGradientsBack) {
  // A two-stage pipeline in each pair of ranks (0 -> 1, 2 -> 3, ...): the first
  // stage sends x*x, the second multiplies what it receives by its own x.
  auto world = mpi_world();
  const int r = world->rank(), p = world->size();
  const bool paired = (r ^ 1) < p;
  check_gradients(
      [&](const Tensor& x) -> Tensor {
        if (!paired)
          return mul(x, x);
        if (r % 2 == 0)
          return send(mul(x, x), world, r + 1, 7);
        return mul(recv(x.shape(), x.dtype(), world, r - 1, 7), x);
      },
      {3});
}

TEST(CollectiveOps, RunInsideAProcessGroupAndNameBadInput) {
  auto world = mpi_world();
  const int r = world->rank();
  auto group = world->split(r % 2, r);
  int members = 0;
  for (int i = r % 2; i < world->size(); i += 2)
    ++members;
  Tensor y = all_reduce(Tensor::from_vector(std::vector<double>{1.0}, {1}), group);
  EXPECT_EQ(y.to_vector<double>()[0], members);
  EXPECT_THROW(reduce_scatter(Tensor::zeros({world->size() * 2 + 1}), world), Error);
  EXPECT_THROW(all_reduce(Tensor::zeros({2}, DType::i32), world), Error);
  // A shape that differs between ranks is named, not gathered into garbage.
  EXPECT_THROW(all_gather(Tensor::zeros({1 + r % 2, 2}), world), Error);
  world->barrier();
}

}  // namespace
}  // namespace loom::distributed
