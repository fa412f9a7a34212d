#pragma once
// Encoders of categorical columns, as scikit-learn's OneHotEncoder and
// OrdinalEncoder. Categories are matched by label, not by code, so tables read
// from different files (with their own code order) encode alike. Categories are
// the labels seen at fit, sorted; a missing value is a category of its own
// ("nan", last) for one_hot, as in scikit-learn, and stays missing for ordinal.
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

// error: a category not seen at fit is a ValueError naming column and label.
// ignore (one_hot): encoded as all zeros. use_encoded_value (ordinal): unknown_value.
enum class HandleUnknown { error, ignore, use_encoded_value };

// "one_hot": each column becomes one 0/1 column per category, named "<col>_<category>".
struct OneHotOptions {
  std::vector<std::string> columns;
  HandleUnknown handle_unknown = HandleUnknown::error;
};
struct OneHotState {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> categories;  // sorted labels per column
  std::vector<bool> missing_category;                // a trailing "nan" category
};
class OneHot final : public StepWith<OneHotOptions, OneHotState> {
 public:
  explicit OneHot(Options options = {});
  std::string kind() const override { return "one_hot"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

// "ordinal": each column becomes a numeric column of category indices (sorted order).
struct OrdinalOptions {
  std::vector<std::string> columns;
  HandleUnknown handle_unknown = HandleUnknown::error;
  double unknown_value = -1.0;
};
struct OrdinalState {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> categories;
};
class Ordinal final : public StepWith<OrdinalOptions, OrdinalState> {
 public:
  explicit Ordinal(Options options = {});
  std::string kind() const override { return "ordinal"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
