#pragma once
// Variance-stabilising transforms.
//
// "log": log1p(x); a value <= -1 is a ValueError naming the column and row.
// "power": Yeo-Johnson (any data) or Box-Cox (positive data), lambda per column
// fitted by maximum likelihood with scipy's Brent search as scikit-learn's
// PowerTransformer does, then (standardize) zero mean and unit variance.
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

struct LogOptions {
  std::vector<std::string> columns;
};
struct LogState {
  std::vector<std::string> columns;
};
class Log final : public StepWith<LogOptions, LogState> {
 public:
  explicit Log(Options options = {});
  std::string kind() const override { return "log"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

enum class PowerMethod { yeo_johnson, box_cox };

struct PowerOptions {
  std::vector<std::string> columns;
  PowerMethod method = PowerMethod::yeo_johnson;
  bool standardize = true;
};
struct PowerState {
  std::vector<std::string> columns;
  std::vector<double> lambdas;
  std::vector<double> mean, scale;  // of the transformed data (0 and 1 without standardize)
};
class Power final : public StepWith<PowerOptions, PowerState> {
 public:
  explicit Power(Options options = {});
  std::string kind() const override { return "power"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
