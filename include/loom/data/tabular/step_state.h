#pragma once
// StepWith<Options, State>: the shape every built-in preprocessing step shares.
// Options are what a spec sets (plain data, defaults as scikit-learn's); State is
// what fit learns (plain data too, readable for inspection and tests). make_step
// builds a step from Options and, for a saved one, restores its State.
//
// Column selection, shared by all steps: the "columns" option names the columns a
// step works on; left empty, a numeric step takes every numeric column and an
// encoder every categorical one, never the target (NOTE [Target column]). Columns
// a step does not take pass through unchanged. The names chosen at fit are part
// of the State, so transform applies the step to exactly those columns.
#include <string>
#include <utility>
#include <vector>

#include "loom/core/error.h"
#include "loom/data/tabular/step.h"

namespace loom::data {

template <typename OptionsT, typename StateT>
class StepWith : public Step {
 public:
  using Options = OptionsT;
  using State = StateT;

  const Options& options() const { return options_; }
  // What fit learned; ValueError when the step has not been fitted.
  const State& state() const {
    LOOM_CHECK(fitted_, kind(), ": the step is not fitted; call fit (or Pipeline::fit) before reading its state");
    return state_;
  }
  // Makes the step fitted with `state` (how make_step restores a saved step).
  void set_state(State state) {
    state_ = std::move(state);
    fitted_ = true;
  }

 protected:
  explicit StepWith(Options options) : options_(std::move(options)) {}
  void check_fitted() const {
    LOOM_CHECK(fitted_, kind(), ": transform called before fit; fit the step (or its Pipeline) on training data first");
  }
  Options options_;
  State state_;
};

}  // namespace loom::data
