#pragma once
// "impute": fills missing values, as scikit-learn's SimpleImputer.
//
// mean / median / most_frequent learn one value per column at fit (most_frequent
// takes the smallest of tied values); constant fills `fill_value` (numeric
// columns) or `fill_label` (categorical columns, which take most_frequent and
// constant only, and only when named in "columns"). A column with no value at all
// at fit is dropped from the output, as scikit-learn does, unless
// keep_empty_features is set: then it is filled with 0 (or the constant).
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

enum class ImputeStrategy { mean, median, most_frequent, constant };

struct ImputeOptions {
  std::vector<std::string> columns;
  ImputeStrategy strategy = ImputeStrategy::mean;
  double fill_value = 0.0;                   // "fill_value": a number
  std::string fill_label = "missing_value";  // "fill_value": a string (categorical columns)
  bool keep_empty_features = false;
};
struct ImputeState {
  std::vector<std::string> columns;  // the columns filled
  std::vector<ColumnType> types;
  std::vector<double> fill;          // numeric columns: the value (NaN for categorical ones)
  std::vector<std::string> label;    // categorical columns: the label ("" for numeric ones)
  std::vector<std::string> dropped;  // columns with no value at fit, removed
};
class Impute final : public StepWith<ImputeOptions, ImputeState> {
 public:
  explicit Impute(Options options = {});
  std::string kind() const override { return "impute"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
