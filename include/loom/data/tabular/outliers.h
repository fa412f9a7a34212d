#pragma once
// "outliers": bounds per column, learned at fit, by z-score (mean +- threshold *
// std, population std) or IQR (q1 - factor * IQR, q3 + factor * IQR); then either
// clip values to the bounds or drop the rows with a value outside them. Missing
// values are never outliers.
//
// Dropping rows is for training data: transform drops rows wherever the step runs,
// so a pipeline used at inference (one prediction per input row) should clip.
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

enum class OutlierMethod { zscore, iqr };
enum class OutlierAction { clip, drop };

struct OutliersOptions {
  std::vector<std::string> columns;
  OutlierMethod method = OutlierMethod::zscore;
  double threshold = 3.0;  // zscore
  double factor = 1.5;     // iqr
  OutlierAction action = OutlierAction::clip;
};
struct OutliersState {
  std::vector<std::string> columns;
  std::vector<double> lower, upper;
};
class Outliers final : public StepWith<OutliersOptions, OutliersState> {
 public:
  explicit Outliers(Options options = {});
  std::string kind() const override { return "outliers"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
