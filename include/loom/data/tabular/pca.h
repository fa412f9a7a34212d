#pragma once
// "pca": principal component analysis, the columns replaced by their projections
// on the leading components ("pca0", "pca1", ..., as scikit-learn names them).
//
// Fit centres the data, forms the covariance with GEMM over fixed row blocks and
// diagonalises it (Householder tridiagonalisation + implicit QL), which is
// scikit-learn >= 1.5's "covariance_eigh" solver. Components are unique up to
// sign; like scikit-learn >= 1.5 (svd_flip with u_based_decision=False) each
// component's largest-magnitude entry is made positive. scikit-learn 1.2-1.4
// flipped by the projected data instead, so compare with those up to sign.
// Needs complete data.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

struct PcaOptions {
  std::vector<std::string> columns;
  int64_t n_components = 0;  // 0: all (min(rows, columns))
  double variance = 0.0;     // in (0, 1): the fewest components explaining this fraction
  bool whiten = false;       // divide each projection by sqrt(explained variance)
};
struct PcaState {
  std::vector<std::string> columns;
  std::vector<double> mean;
  std::vector<double> components;  // [n_components, columns] row-major
  std::vector<double> explained_variance, explained_variance_ratio;
};
class Pca final : public StepWith<PcaOptions, PcaState> {
 public:
  explicit Pca(Options options = {});
  std::string kind() const override { return "pca"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
  int64_t n_components() const { return static_cast<int64_t>(state().explained_variance.size()); }
};

}  // namespace loom::data
