#pragma once
// "polynomial": the columns' monomials up to `degree`, in scikit-learn's
// PolynomialFeatures order (degree 1 terms, then degree 2 in lexicographic order
// of the column pairs: a^2, a b, a c, b^2, ...), named as its
// get_feature_names_out ("a", "a^2", "a b"). They replace the input columns.
#include <cstdint>
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

struct PolynomialOptions {
  std::vector<std::string> columns;
  int64_t degree = 2;
  bool interaction_only = false;
  bool include_bias = false;  // a leading column of ones named "1"
};
struct PolynomialState {
  std::vector<std::string> columns;
  std::vector<std::vector<int64_t>> terms;  // per output column, the input indices multiplied
  std::vector<std::string> names;
};
class Polynomial final : public StepWith<PolynomialOptions, PolynomialState> {
 public:
  explicit Polynomial(Options options = {});
  std::string kind() const override { return "polynomial"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
