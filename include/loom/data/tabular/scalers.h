#pragma once
// Scalers, as scikit-learn's MinMaxScaler, StandardScaler and RobustScaler.
// Missing values are ignored at fit and stay missing. A column with (near) zero
// spread gets scale 1, as in scikit-learn, so it is shifted but not blown up.
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

// "minmax_scale": x * scale + offset maps [min, max] seen at fit to feature_range.
struct MinMaxScaleOptions {
  std::vector<std::string> columns;
  double range_min = 0.0, range_max = 1.0;  // "feature_range": [min, max]
  bool clip = false;                        // clip transformed values to feature_range
};
struct MinMaxScaleState {
  std::vector<std::string> columns;
  std::vector<double> data_min, data_max, scale, offset;
};
class MinMaxScale final : public StepWith<MinMaxScaleOptions, MinMaxScaleState> {
 public:
  explicit MinMaxScale(Options options = {});
  std::string kind() const override { return "minmax_scale"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

// "standard_scale": (x - mean) / std, std the population one (ddof 0).
struct StandardScaleOptions {
  std::vector<std::string> columns;
  bool with_mean = true, with_std = true;
};
struct StandardScaleState {
  std::vector<std::string> columns;
  std::vector<double> mean, var, scale;  // scale = sqrt(var), or 1 for a constant column
};
class StandardScale final : public StepWith<StandardScaleOptions, StandardScaleState> {
 public:
  explicit StandardScale(Options options = {});
  std::string kind() const override { return "standard_scale"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

// "robust_scale": (x - median) / (q_max - q_min), quantiles by linear interpolation.
struct RobustScaleOptions {
  std::vector<std::string> columns;
  bool with_centering = true, with_scaling = true;
  double quantile_min = 25.0, quantile_max = 75.0;  // "quantile_range": [25, 75]
};
struct RobustScaleState {
  std::vector<std::string> columns;
  std::vector<double> center, scale;
};
class RobustScale final : public StepWith<RobustScaleOptions, RobustScaleState> {
 public:
  explicit RobustScale(Options options = {});
  std::string kind() const override { return "robust_scale"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
