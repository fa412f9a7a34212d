#pragma once
// Dense products over a table's columns, through the GEMM kernel list.
//
// NOTE [Row blocks for GEMM]
// Columns live in separate vectors, so rows are processed in blocks of a fixed
// size: a block is copied (centred) into one contiguous [columns, rows] buffer and
// handed to GEMM, which accumulates block after block in row order. The block size
// never depends on the thread count, and each GEMM gives every output element to
// one thread, so results are the same bits with 1 or N threads.
#include <cstdint>
#include <vector>

#include "loom/data/tabular/table.h"

namespace loom::data::detail {

// sum over rows of (x - mean)(x - mean)^T for the columns at `cols`: [d, d] row-major.
std::vector<double> centered_gram(const Table& table, const std::vector<int64_t>& cols,
                                  const std::vector<double>& mean);

// out[j].values[r] = sum_c weights[j * d + c] * (x_c[r] - mean[c]) for j < out.size(),
// d = cols.size(); `out` columns must already hold table.rows() values.
void project(const Table& table, const std::vector<int64_t>& cols, const std::vector<double>& mean,
             const std::vector<double>& weights, std::vector<Column>& out);

// Eigen-decomposition of the symmetric [n, n] matrix `a` (row-major): on return
// `a` holds the eigenvectors as columns (a[i * n + j] = component i of vector j)
// and `values` the eigenvalues, ascending. Householder tridiagonalisation then
// the implicit QL method (tred2 / tql2, as in EISPACK and JAMA).
void symmetric_eigen(int64_t n, std::vector<double>& a, std::vector<double>& values);

}  // namespace loom::data::detail
