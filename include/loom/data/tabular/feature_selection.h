#pragma once
// Feature selection: each step keeps a subset of its columns and removes the rest.
//
// "variance_threshold": removes columns whose variance (population, missing values
// ignored) is <= threshold, as scikit-learn's VarianceThreshold.
// "correlation_filter": for each pair with |Pearson r| > threshold, removes the
// later column: columns are visited in order and one is kept when it is not too
// correlated with any column kept before it. Needs complete data.
// "select_k_best": keeps the k columns with the highest score against the target
// (NOTE [Target column] in step.h; Pipeline::fit(table, "target") names it).
// Needs complete data.
//   f_classif   ANOVA F statistic, as scikit-learn's f_classif, ties broken as
//               SelectKBest (stable sort: of equal scores the later column wins).
//   mutual_info a plug-in estimate (in nats) from a contingency table: the column
//               is cut into `bins` equal-frequency bins, the target taken as
//               classes (or cut the same way when numeric with more than `bins`
//               distinct values). This is NOT scikit-learn's mutual_info_classif
//               (a k-nearest-neighbour estimator); scores differ from it.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

struct VarianceThresholdOptions {
  std::vector<std::string> columns;
  double threshold = 0.0;
};
struct VarianceThresholdState {
  std::vector<std::string> columns;  // the candidates
  std::vector<double> variances;
  std::vector<std::string> removed;
};
class VarianceThreshold final : public StepWith<VarianceThresholdOptions, VarianceThresholdState> {
 public:
  explicit VarianceThreshold(Options options = {});
  std::string kind() const override { return "variance_threshold"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

struct CorrelationFilterOptions {
  std::vector<std::string> columns;
  double threshold = 0.95;
};
struct CorrelationFilterState {
  std::vector<std::string> columns;
  std::vector<std::string> removed;
};
class CorrelationFilter final : public StepWith<CorrelationFilterOptions, CorrelationFilterState> {
 public:
  explicit CorrelationFilter(Options options = {});
  std::string kind() const override { return "correlation_filter"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

enum class SelectScore { f_classif, mutual_info };

struct SelectKBestOptions {
  std::vector<std::string> columns;
  SelectScore score = SelectScore::f_classif;
  int64_t k = 10;     // -1 ("all"): keep every column; more than there are keeps all
  int64_t bins = 10;  // mutual_info
};
struct SelectKBestState {
  std::vector<std::string> columns;
  std::vector<double> scores;  // per column; NaN where undefined (a constant column)
  std::vector<std::string> removed;
};
class SelectKBest final : public StepWith<SelectKBestOptions, SelectKBestState> {
 public:
  explicit SelectKBest(Options options = {});
  std::string kind() const override { return "select_k_best"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
