#pragma once
// Column selection and the parallel loops the steps share.
//
// NOTE [Deterministic steps]
// Every fit computes each column's statistics on one thread, in row order, so the
// result does not depend on the thread count; transforms write each output value
// independently. Work is split over columns (fits) or over (column, row block)
// pairs (transforms), through runtime::parallel_for.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loom/data/tabular/table.h"

namespace loom::data::detail {

enum class Want { numeric, categorical, any };

// The columns a step takes at fit: `requested` (checked to exist, not to be the
// target and to have the wanted type) or, when empty, every column of the wanted
// type except the target. See step_state.h.
std::vector<std::string> choose_columns(const Table& table, const std::vector<std::string>& requested,
                                        const std::string& target, Want want, const std::string& kind);

// Positions of the fitted `names` in `table` at transform; ValueError for a
// missing column or one whose type changed since fit.
std::vector<int64_t> find_columns(const Table& table, const std::vector<std::string>& names, Want want,
                                  const std::string& kind);

// "'a', 'b', 'c'" (the first 20).
std::string quoted_list(const std::vector<std::string>& names);

// fn(i) for i in [0, n), in parallel, one index per task.
void parallel_each(int64_t n, const std::function<void(int64_t)>& fn);

// fn(k, r0, r1) over [0, ncols) x row blocks of [0, nrows), in parallel.
void parallel_blocks(int64_t ncols, int64_t nrows, const std::function<void(int64_t, int64_t, int64_t)>& fn);

// A numeric column of `rows` values (zero), named `name`.
Column numeric_column(std::string name, int64_t rows);

// A copy of `src` in which the columns at `indices` are replaced by numeric
// columns of the same name whose rows [r0, r1) fn(k, src_values, dst_values, r0, r1)
// fills, for the k-th index.
Table map_columns(const Table& src, const std::vector<int64_t>& indices,
                  const std::function<void(int64_t, const double*, double*, int64_t, int64_t)>& fn);

// `src` without the columns at `removed`, with `added` where the first removed
// column was (at the end when none is removed). Throws for duplicate names.
Table splice_columns(const Table& src, const std::vector<int64_t>& removed, std::vector<Column> added,
                     const std::string& kind);

// `src` with the column at indices[k] replaced by the columns of groups[k] (none
// removes it), the others unchanged. Throws for duplicate names.
Table replace_columns(const Table& src, const std::vector<int64_t>& indices, std::vector<std::vector<Column>> groups,
                      const std::string& kind);

// The table without the columns named `removed` (each must be present).
Table remove_columns(const Table& table, const std::vector<std::string>& removed, const std::string& kind);

// ValueError when `column` has a missing value: the steps that need complete data
// (pca, select_k_best...) say so, with the row.
void check_complete(const Column& column, const std::string& kind);
// ValueError when every value of `column` is missing (nothing to learn from).
void check_not_empty(const Column& column, int64_t present, const std::string& kind);

}  // namespace loom::data::detail
