// Compressed allreduce under mpirun: close to the exact sum, same bits on every rank,
// fewer bytes than a plain ring.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "loom/distributed/compression.h"

namespace loom::distributed {
namespace {

std::vector<float> rank_values(int64_t n, int rank) {
  std::mt19937 gen(100u + static_cast<unsigned>(rank));
  std::normal_distribution<float> dist;
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v)
    x = dist(gen);
  return v;
}

std::vector<float> exact_sum(int64_t n, int ranks) {
  std::vector<float> s(static_cast<size_t>(n), 0.0f);
  for (int r = 0; r < ranks; ++r) {
    auto v = rank_values(n, r);
    for (int64_t i = 0; i < n; ++i)
      s[i] += v[i];
  }
  return s;
}

void expect_same_on_every_rank(Communicator& comm, const std::vector<float>& x, const char* name) {
  std::vector<float> root = x;
  comm.broadcast(root.data(), root.size() * 4, 0);
  EXPECT_EQ(std::memcmp(root.data(), x.data(), x.size() * 4), 0) << name << ": rank " << comm.rank() << " differs";
}

TEST(CompressedAllreduce, DenseCodecsApproximateTheSum) {
  auto comm = mpi_world();
  const int p = comm->size();
  for (int64_t n : {int64_t{1}, int64_t{p + 1}, int64_t{100003}}) {
    const auto want = exact_sum(n, p);
    for (const char* name : {"none", "fp16", "qsgd"}) {
      auto codec = make_compressor(name);
      auto x = rank_values(n, comm->rank());
      CompressionReport rep = compressed_allreduce(*comm, x.data(), n, *codec);
      double err2 = 0, norm2 = 0, worst = 0;
      for (int64_t i = 0; i < n; ++i) {
        err2 += (x[i] - want[i]) * (x[i] - want[i]);
        norm2 += want[i] * want[i];
        worst = std::max(worst, static_cast<double>(std::fabs(x[i] - want[i])));
      }
      const double rel = std::sqrt(err2 / std::max(norm2, 1e-30));
      const double bound = std::string(name) == "qsgd" ? 0.05 : std::string(name) == "fp16" ? 2e-3 : 1e-5;
      EXPECT_LT(rel, bound) << name << " n " << n;
      expect_same_on_every_rank(*comm, x, name);
      if (n == 100003) {
        const double ratio = static_cast<double>(rep.raw_bytes) / static_cast<double>(rep.bytes_sent);
        if (std::string(name) == "fp16")
          EXPECT_NEAR(ratio, 2.0, 0.05);
        if (std::string(name) == "qsgd")
          EXPECT_GT(ratio, 3.5);
      }
    }
  }
}

TEST(CompressedAllreduce, TopkSumsTheSentValuesAndSendsLess) {
  auto comm = mpi_world();
  const int p = comm->size();
  const int64_t n = 50000;
  auto codec = make_compressor("topk", {.topk_ratio = 0.01});
  auto x = rank_values(n, comm->rank());
  // What this rank sends: its own top 1%; the result is the sum of all ranks' sent pairs.
  CompressionReport rep = compressed_allreduce(*comm, x.data(), n, *codec, 1);
  int64_t nonzero = 0;
  for (float v : x)
    nonzero += v != 0.0f;
  EXPECT_LE(nonzero, 500 * p);
  EXPECT_GE(nonzero, 500);
  expect_same_on_every_rank(*comm, x, "topk");
  EXPECT_GT(rep.ratio(), 10.0);
  // The residual plus what was sent is this rank's input.
  auto mine = rank_values(n, comm->rank());
  const std::vector<float>* res = codec->residual(1);
  ASSERT_NE(res, nullptr);
  int64_t residual_zeros = 0;
  for (int64_t i = 0; i < n; ++i)
    residual_zeros += (*res)[i] == 0.0f;
  EXPECT_EQ(residual_zeros, 500);
  // Over many steps with error feedback the accumulated update approaches the exact one.
  const auto want = exact_sum(n, p);
  std::vector<double> acc(static_cast<size_t>(n), 0.0);
  auto ef = make_compressor("topk", {.topk_ratio = 0.05});
  const int steps = 60;
  for (int s = 0; s < steps; ++s) {
    auto g = mine;
    compressed_allreduce(*comm, g.data(), n, *ef, 2);
    for (int64_t i = 0; i < n; ++i)
      acc[i] += g[i];
  }
  double err2 = 0, norm2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    double w = static_cast<double>(want[i]) * steps;
    err2 += (acc[i] - w) * (acc[i] - w);
    norm2 += w * w;
  }
  EXPECT_LT(std::sqrt(err2 / norm2), 0.2);
}

}  // namespace
}  // namespace loom::distributed
