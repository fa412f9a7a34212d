#pragma once
// A preprocessing step: fit on training data, then transform any data the same
// way (scikit-learn's fit/transform). Steps chain into a Pipeline that is saved
// beside a model, so inference sees data prepared exactly as in training.
#include <memory>
#include <string>

#include "loom/data/tabular/table.h"

namespace loom::data {

class Step {
 public:
  virtual ~Step() = default;
  // The step's kind as used in pipeline specs and saved files, e.g. "standard_scale".
  virtual std::string kind() const = 0;
  // Learns what transform needs from `table` (which may lack the target column).
  virtual void fit(const Table& table) = 0;
  // Applies the learned transform; a ValueError names a column the fit did not see.
  virtual Table transform(const Table& table) const = 0;
  Table fit_transform(const Table& table) {
    fit(table);
    return transform(table);
  }
  // The step's options and fitted state as a JSON object (text), and back.
  virtual std::string to_json() const = 0;
  bool fitted() const { return fitted_; }

  // NOTE [Target column]
  // The column a model predicts. Pipeline::fit names it to every step before any
  // fits (a spec may also give it as "target"). Steps never select, change or drop
  // it, so it passes through (and rows that `outliers` drops lose their target
  // too); supervised steps (select_k_best) read it at fit. Tables seen at inference
  // may lack it. to_json() saves it as "target".
  void set_target(std::string name) { target_ = std::move(name); }
  const std::string& target() const { return target_; }

 protected:
  bool fitted_ = false;
  std::string target_;
};

// Builds an unfitted step from its JSON spec {"kind": ..., options...}, or a
// fitted one from what to_json() wrote. ValueError for an unknown kind/option.
std::unique_ptr<Step> make_step(const std::string& json_text);

}  // namespace loom::data
