#pragma once
// Pipeline: preprocessing steps applied in order, fitted once on training data
// and saved beside the model, so inference prepares data exactly as training did.
//
//   auto pipe = loom::data::Pipeline::from_spec(R"({"steps": [
//       {"kind": "impute", "strategy": "median"},
//       {"kind": "standard_scale"},
//       {"kind": "one_hot", "handle_unknown": "ignore"}]})");
//   loom::data::Table train_ready = pipe.fit_transform(train, "label");
//   pipe.save("model/pipeline.json");
//   ...
//   auto same = loom::data::Pipeline::load("model/pipeline.json");
//   loom::data::Table x = same.transform(new_rows);  // columns: same.feature_names()
//
// A spec is {"steps": [step, ...], "target": "<column>" (optional)}, each step
// {"kind": ..., options...} as make_step takes; the kinds and their options are
// listed in steps.h.
//
// The target (NOTE [Target column] in step.h) is named at fit; every step leaves
// it alone and the supervised ones read it. transform's output holds the feature
// columns in training order, then the target when the input has it, so a model
// sees the same columns whether the target is there (training) or not (inference).
#include <memory>
#include <string>
#include <vector>

#include "loom/data/tabular/step.h"
#include "loom/data/tabular/table.h"

namespace loom::data {

class Pipeline {
 public:
  Pipeline() = default;
  explicit Pipeline(std::vector<std::unique_ptr<Step>> steps);
  Pipeline(Pipeline&&) = default;
  Pipeline& operator=(Pipeline&&) = default;

  // An unfitted pipeline from a spec given as JSON text, or as the path of a file
  // holding it. ValueError (naming the file and the step) for a bad spec.
  static Pipeline from_spec(const std::string& json_text_or_path);
  // A fitted pipeline written by save(). IOError when the file cannot be read,
  // ValueError (naming the file) when it is malformed, names an unknown kind or
  // lacks a step's fitted state.
  static Pipeline load(const std::string& path);
  // A fitted pipeline from the text save()/to_json() wrote (e.g. kept in a weights
  // file's metadata); `origin` names where it came from in errors.
  static Pipeline from_saved_json(const std::string& text, const std::string& origin);
  // Writes the fitted pipeline as JSON, atomically (a temporary file, fsync, rename).
  void save(const std::string& path) const;
  // What save() writes: {"format": "loom.pipeline", "version": 1, "target": ...,
  // "features": [...], "steps": [each step's to_json()]}.
  std::string to_json() const;

  void add(std::unique_ptr<Step> step);
  int64_t size() const { return static_cast<int64_t>(steps_.size()); }
  const Step& step(int64_t i) const;
  Step& step(int64_t i);

  // Fits each step on the output of the ones before it. `target` names the
  // column a model predicts ("" uses the spec's "target", if any; it may be none).
  void fit(const Table& table, const std::string& target = "");
  Table fit_transform(const Table& table, const std::string& target = "");
  // Applies the fitted steps; the target column may be absent.
  Table transform(const Table& table) const;

  bool fitted() const { return fitted_; }
  const std::string& target() const { return target_; }
  // The feature columns transform produces, in order (the target excluded).
  const std::vector<std::string>& feature_names() const { return features_; }

 private:
  static Pipeline parse(const std::string& text, const std::string& origin, bool saved);
  Table run(const Table& table) const;
  Table arrange(Table table) const;

  std::vector<std::unique_ptr<Step>> steps_;
  std::string target_;
  std::vector<std::string> features_;
  bool fitted_ = false;
};

}  // namespace loom::data
