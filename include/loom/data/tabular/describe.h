#pragma once
// Per-column statistics of a Table (pandas' DataFrame.describe) and the report
// that `loom data inspect FILE` prints.
//
//   for (const auto& s : loom::data::describe(table))
//     std::cout << s.name << ": mean " << s.mean << ", " << s.missing << " missing\n";
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/tabular/table.h"

namespace loom::data {

struct ColumnStats {
  std::string name;
  ColumnType type = ColumnType::numeric;
  int64_t count = 0;    // values that are not missing
  int64_t missing = 0;  // NaN values
  // Numeric columns, over the values that are not missing; NaN when there are none
  // (and for categorical columns). std is the sample standard deviation (n - 1 in
  // the denominator, as pandas' describe), NaN below two values.
  double mean = 0, std = 0, min = 0, max = 0;
  // Categorical columns: how many categories occur, the most frequent one and how
  // often it occurs (a tie goes to the category that sorts first). 0 and "" for
  // numeric columns.
  int64_t unique = 0;
  std::string top;
  int64_t top_count = 0;
};

// One entry per column, in column order; columns are summarised in parallel.
// ValueError when a categorical column holds a code that is not a category index.
std::vector<ColumnStats> describe(const Table& table);

// The human-readable summary `loom data inspect FILE` prints: the shape, then per
// column its type, missing count, and mean/std/min/max or its categories and the
// most frequent one. `source` names the data (usually the file path).
std::string format_inspect_report(const Table& table, const std::string& source);

}  // namespace loom::data
