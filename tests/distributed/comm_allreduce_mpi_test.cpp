// Allreduce under mpirun: every algorithm x dtype x op x awkward size, against the
// result computed locally from every rank's (deterministic) input.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {
namespace {

// Element i of rank r: small integers, so sums are exact in every dtype.
template <typename T>
T value(int64_t i, int r) {
  return static_cast<T>(((i * 7 + r * 13 + (i >> 10)) % 101) - 50);
}

template <typename T>
T expected(int64_t i, int ranks, ReduceOp op) {
  T acc = value<T>(i, 0);
  for (int r = 1; r < ranks; ++r) {
    T v = value<T>(i, r);
    acc = op == ReduceOp::sum ? static_cast<T>(acc + v) : op == ReduceOp::max ? std::max(acc, v) : std::min(acc, v);
  }
  return acc;
}

template <typename T>
void check_allreduce(AllreduceAlgorithm algorithm, ReduceOp op, int64_t count) {
  auto comm = mpi_world();
  const int r = comm->rank(), p = comm->size();
  std::vector<T> data(static_cast<size_t>(count) + 1);
  for (int64_t i = 0; i < count; ++i)
    data[i] = value<T>(i, r);
  const T guard = static_cast<T>(12345);
  data[count] = guard;  // past the end: must not be touched
  comm->allreduce(data.data(), count, dtype_v<T>, op, algorithm);
  int64_t bad = 0, first_bad = -1;
  for (int64_t i = 0; i < count; ++i)
    if (data[i] != expected<T>(i, p, op) && bad++ == 0)
      first_bad = i;
  EXPECT_EQ(bad, 0) << "rank " << r << ": " << algorithm_name(algorithm) << " " << reduce_op_name(op) << " count "
                    << count << ", first wrong element " << first_bad;
  EXPECT_EQ(data[count], guard) << "wrote past the end";
}

struct Case {
  AllreduceAlgorithm algorithm;
  DType dtype;
  ReduceOp op;
};

class AllreduceTest : public ::testing::TestWithParam<Case> {};

TEST_P(AllreduceTest, AwkwardSizes) {
  const Case c = GetParam();
  const int p = mpi_world()->size();
  for (int64_t count : {int64_t{0}, int64_t{1}, int64_t{p - 1}, int64_t{p + 1}, int64_t{1000}, int64_t{65537},
                        int64_t{(1 << 20) + 3}}) {
    switch (c.dtype) {
      case DType::f32:
        check_allreduce<float>(c.algorithm, c.op, count);
        break;
      case DType::f64:
        check_allreduce<double>(c.algorithm, c.op, count);
        break;
      case DType::i64:
        check_allreduce<int64_t>(c.algorithm, c.op, count);
        break;
      case DType::i32:
        check_allreduce<int32_t>(c.algorithm, c.op, count);
        break;
      default:
        FAIL();
    }
  }
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (auto a : {AllreduceAlgorithm::ring, AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::native,
                 AllreduceAlgorithm::shared_memory, AllreduceAlgorithm::automatic})
    for (auto d : {DType::f32, DType::f64, DType::i64, DType::i32})
      for (auto o : {ReduceOp::sum, ReduceOp::max, ReduceOp::min})
        cases.push_back({a, d, o});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Comm, AllreduceTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(algorithm_name(info.param.algorithm)) + "_" +
                                  dtype_name(info.param.dtype) + "_" + reduce_op_name(info.param.op);
                         });

TEST(Allreduce, LargeF32Sum) {
  for (auto a : {AllreduceAlgorithm::ring, AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::native,
                 AllreduceAlgorithm::shared_memory, AllreduceAlgorithm::automatic})
    check_allreduce<float>(a, ReduceOp::sum, (int64_t{16} << 20) + 5);
}

// Data-parallel replicas must stay bit-identical: our algorithms give every rank the
// same bits even for rounding sums of random floats.
TEST(Allreduce, SameBitsOnEveryRank) {
  auto comm = mpi_world();
  for (auto a : {AllreduceAlgorithm::ring, AllreduceAlgorithm::recursive_doubling, AllreduceAlgorithm::shared_memory}) {
    for (auto op : {ReduceOp::sum, ReduceOp::max}) {
      std::mt19937 gen(1234u + static_cast<unsigned>(comm->rank()));
      std::normal_distribution<float> dist;
      std::vector<float> data(100003);
      for (float& x : data)
        x = dist(gen);
      comm->allreduce(data.data(), static_cast<int64_t>(data.size()), DType::f32, op, a);
      std::vector<float> rank0 = data;
      comm->broadcast(rank0.data(), rank0.size() * sizeof(float), 0);
      EXPECT_EQ(std::memcmp(rank0.data(), data.data(), data.size() * sizeof(float)), 0)
          << algorithm_name(a) << " " << reduce_op_name(op) << ": rank " << comm->rank() << " differs from rank 0";
    }
  }
}

TEST(Allreduce, RingCountsBytesSent) {
  auto comm = mpi_world();
  const int p = comm->size();
  const int64_t count = 1000003;
  std::vector<float> data(count, 1.0f);
  uint64_t before = comm->bytes_sent();
  comm->allreduce(data.data(), count, DType::f32, ReduceOp::sum, AllreduceAlgorithm::ring);
  uint64_t sent = comm->bytes_sent() - before;
  // 2 (p-1) blocks of about count/p elements each.
  double ideal = 2.0 * (p - 1) * static_cast<double>(count) / p * sizeof(float);
  EXPECT_NEAR(static_cast<double>(sent), ideal, 8.0 * p * sizeof(float));
  EXPECT_EQ(data[0], static_cast<float>(p));
}

TEST(Allreduce, RejectsUnsupportedDtype) {
  auto comm = mpi_world();
  std::vector<uint8_t> data(4);
  EXPECT_THROW(comm->allreduce(data.data(), 4, DType::u8), NotImplementedError);
}

}  // namespace
}  // namespace loom::distributed
