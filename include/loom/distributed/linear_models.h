#pragma once
// Distributed full-batch gradient descent for linear and logistic regression: the
// classic data-parallel case. Every rank holds some rows; each iteration each rank
// computes the gradient sum over its rows, one allreduce adds them up (with the
// loss and row count riding along), and every rank applies the same update.
//
//   auto comm = loom::distributed::mpi_world();
//   auto rows = loom::distributed::row_range(n, comm->rank(), comm->size());
//   LinearModelOptions o{.logistic = true, .lr = 0.5, .iterations = 200};
//   LinearModel m = fit_linear_model(x_rows, y_rows, o, comm.get());
//
// The arithmetic is in f64, so the result equals single-process full-batch GD on
// all rows (comm == nullptr) up to the order of the sums.
#include <cstdint>
#include <utility>
#include <vector>

#include "loom/core/tensor.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {

struct LinearModelOptions {
  bool logistic = false;  // labels 0/1, log-loss; else squared error
  double lr = 0.1;
  int64_t iterations = 100;
  double l2 = 0.0;  // 0.5 * l2 * |w|^2 added to the mean loss
};

struct LinearModel {
  std::vector<double> weights;
  double bias = 0;
  std::vector<double> losses;  // mean loss over all rows before each iteration
  // The linear score w . row + b (logistic: P(class 1) = 1 / (1 + exp(-score))).
  double predict(const double* row) const;
};

// x: [rows, features] (f32 or f64), y: [rows]; comm == nullptr: one process.
LinearModel fit_linear_model(const Tensor& x, const Tensor& y, const LinearModelOptions& options, Communicator* comm);

// The rows [begin, end) rank `rank` of `world` takes of n (contiguous blocks).
std::pair<int64_t, int64_t> row_range(int64_t n, int rank, int world);

}  // namespace loom::distributed
