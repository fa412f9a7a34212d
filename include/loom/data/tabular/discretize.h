#pragma once
// "discretize": bins numeric columns into n_bins ordinal codes, as scikit-learn's
// KBinsDiscretizer(encode="ordinal"). uniform: equal-width edges between min and
// max; quantile: edges at numpy percentiles (linear interpolation), with edges
// closer than 1e-8 to the previous one removed. A constant column gets one bin
// (code 0). A value falls in bin i when edge[i] <= x < edge[i+1] (values beyond
// the outer edges take the first/last bin). Missing values are ignored at fit and
// stay missing (scikit-learn rejects them).
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

enum class DiscretizeStrategy { uniform, quantile };

struct DiscretizeOptions {
  std::vector<std::string> columns;
  int64_t n_bins = 5;
  DiscretizeStrategy strategy = DiscretizeStrategy::quantile;
};
struct DiscretizeState {
  std::vector<std::string> columns;
  std::vector<std::vector<double>> edges;  // n_bins + 1 per column, ascending
};
class Discretize final : public StepWith<DiscretizeOptions, DiscretizeState> {
 public:
  explicit Discretize(Options options = {});
  std::string kind() const override { return "discretize"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
