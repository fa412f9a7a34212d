// Point to point, broadcast, reduce-scatter, allgather, barrier and timeouts under mpirun.
#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <vector>

#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {
namespace {

TEST(Comm, RankAndSize) {
  auto comm = mpi_world();
  EXPECT_GE(comm->size(), 1);
  EXPECT_GE(comm->rank(), 0);
  EXPECT_LT(comm->rank(), comm->size());
  EXPECT_GE(comm->local_size(), 1);
  EXPECT_LT(comm->local_rank(), comm->local_size());
  EXPECT_LE(comm->local_size(), comm->size());
  EXPECT_TRUE(launched_by_mpi());
  int sum = comm->rank();
  comm->allreduce(&sum, 1, DType::i32);
  EXPECT_EQ(sum, comm->size() * (comm->size() - 1) / 2);
}

TEST(Comm, SendRecvAroundTheRing) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  if (p < 2)
    GTEST_SKIP() << "needs 2 ranks";
  for (size_t n : {size_t{0}, size_t{1}, size_t{100000}}) {
    std::vector<int32_t> mine(n, r), theirs(n, -1);
    const int right = (r + 1) % p, left = (r + p - 1) % p;
    comm->sendrecv(mine.data(), n * 4, right, theirs.data(), n * 4, left, 5);
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(theirs[i], left);
    // Plain send/recv: even ranks send first.
    std::vector<int32_t> got(n, -1);
    if (r % 2 == 0) {
      if (r + 1 < p)
        comm->send(mine.data(), n * 4, r + 1, 9);
    } else {
      comm->recv(got.data(), n * 4, r - 1, 9);
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(got[i], r - 1);
    }
  }
}

TEST(Comm, BroadcastFromEveryRoot) {
  auto comm = mpi_world();
  for (int root = 0; root < comm->size(); ++root) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{1} << 20}) {
      std::vector<uint8_t> data(n, comm->rank() == root ? 0 : 0xEE);
      if (comm->rank() == root)
        for (size_t i = 0; i < n; ++i)
          data[i] = static_cast<uint8_t>(i * 31 + root);
      comm->broadcast(data.data(), n, root);
      for (size_t i = 0; i < n; ++i)
        ASSERT_EQ(data[i], static_cast<uint8_t>(i * 31 + root)) << "root " << root << " n " << n << " i " << i;
    }
  }
}

TEST(Comm, ReduceScatterUnevenCounts) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<int64_t> counts(static_cast<size_t>(p));
    for (int b = 0; b < p; ++b)
      counts[b] = variant == 0 ? 0 : variant == 1 ? (b % 2 == 0 ? 0 : 3 * b + 1) : 50000 + 7 * b;
    const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
    std::vector<double> src(static_cast<size_t>(total));
    for (int64_t i = 0; i < total; ++i)
      src[i] = static_cast<double>(i % 17 + r);
    std::vector<double> dst(static_cast<size_t>(counts[r]) + 1, -1.0);
    comm->reduce_scatter(src.data(), dst.data(), counts, DType::f64, ReduceOp::sum);
    int64_t off = std::accumulate(counts.begin(), counts.begin() + r, int64_t{0});
    for (int64_t i = 0; i < counts[r]; ++i)
      ASSERT_EQ(dst[i], static_cast<double>(p * ((off + i) % 17) + p * (p - 1) / 2)) << "variant " << variant;
    EXPECT_EQ(dst[counts[r]], -1.0);
  }
  // max as well
  std::vector<int64_t> counts(static_cast<size_t>(p), 5);
  std::vector<float> src(static_cast<size_t>(5 * p), static_cast<float>(r)), dst(5);
  comm->reduce_scatter(src.data(), dst.data(), counts, DType::f32, ReduceOp::max);
  for (float x : dst)
    EXPECT_EQ(x, static_cast<float>(p - 1));
}

TEST(Comm, AllgatherUnevenCounts) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  for (int variant = 0; variant < 3; ++variant) {
    std::vector<int64_t> counts(static_cast<size_t>(p));
    for (int b = 0; b < p; ++b)
      counts[b] = variant == 0 ? 1 : variant == 1 ? (b == 0 ? 0 : b * 1000 + 1) : 300000 + b;
    const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
    std::vector<int64_t> mine(static_cast<size_t>(counts[r]));
    for (int64_t i = 0; i < counts[r]; ++i)
      mine[i] = r * 1000000 + i;
    std::vector<int64_t> all(static_cast<size_t>(total), -1);
    comm->allgather(mine.data(), all.data(), counts, DType::i64);
    int64_t off = 0;
    for (int b = 0; b < p; ++b) {
      for (int64_t i = 0; i < counts[b]; ++i)
        ASSERT_EQ(all[off + i], b * 1000000 + i) << "variant " << variant << " block " << b;
      off += counts[b];
    }
  }
}

TEST(Comm, BadArgumentsAreValueErrors) {
  auto comm = mpi_world();
  std::vector<int64_t> wrong(static_cast<size_t>(comm->size()) + 1, 1);
  float x[8] = {};
  EXPECT_THROW(comm->allgather(x, x, wrong, DType::f32), ValueError);
  EXPECT_THROW(comm->send(x, 4, comm->size(), 0), ValueError);
  EXPECT_THROW(comm->send(x, 4, 0, 1 << 21), ValueError);
  EXPECT_THROW(parse_algorithm("tree"), ValueError);
}

TEST(Comm, RecvTimeoutNamesThePeer) {
  auto comm = mpi_world();
  if (comm->size() < 2)
    GTEST_SKIP() << "needs 2 ranks";
  comm->barrier();
  if (comm->rank() == 0) {
    const double saved = comm->timeout_seconds();
    comm->set_timeout_seconds(0.3);
    int x = 0;
    auto start = std::chrono::steady_clock::now();
    try {
      comm->recv(&x, sizeof(x), 1, 77);  // rank 1 never sends this
      ADD_FAILURE() << "recv returned";
    } catch (const DistributedError& e) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      EXPECT_NE(e.message().find("rank 1 did not answer within"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("recv"), std::string::npos) << e.message();
      EXPECT_LT(s, 5.0);
    }
    comm->set_timeout_seconds(saved);
  }
  comm->barrier();
  // The abandoned receive must not steal a later message with the same tag.
  if (comm->size() >= 2 && comm->rank() < 2) {
    int v = 42, got = 0;
    if (comm->rank() == 1)
      comm->send(&v, sizeof(v), 0, 77);
    else
      comm->recv(&got, sizeof(got), 1, 77);
    if (comm->rank() == 0)
      EXPECT_EQ(got, 42);
  }
  comm->barrier();
}

}  // namespace
}  // namespace loom::distributed
