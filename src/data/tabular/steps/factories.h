#pragma once
// One factory per step kind, each in its step's file; make_step.cpp lists them.
// A factory reads the options (and, for a saved step, the state) from `spec`.
#include <memory>

#include "data/tabular/steps/step_json.h"
#include "loom/data/tabular/step.h"

namespace loom::data::detail {

using StepFactory = std::unique_ptr<Step> (*)(SpecReader& spec);

std::unique_ptr<Step> make_schema_check(SpecReader& spec);
std::unique_ptr<Step> make_impute(SpecReader& spec);
std::unique_ptr<Step> make_outliers(SpecReader& spec);
std::unique_ptr<Step> make_minmax_scale(SpecReader& spec);
std::unique_ptr<Step> make_standard_scale(SpecReader& spec);
std::unique_ptr<Step> make_robust_scale(SpecReader& spec);
std::unique_ptr<Step> make_log(SpecReader& spec);
std::unique_ptr<Step> make_power(SpecReader& spec);
std::unique_ptr<Step> make_one_hot(SpecReader& spec);
std::unique_ptr<Step> make_ordinal(SpecReader& spec);
std::unique_ptr<Step> make_discretize(SpecReader& spec);
std::unique_ptr<Step> make_variance_threshold(SpecReader& spec);
std::unique_ptr<Step> make_correlation_filter(SpecReader& spec);
std::unique_ptr<Step> make_select_k_best(SpecReader& spec);
std::unique_ptr<Step> make_polynomial(SpecReader& spec);
std::unique_ptr<Step> make_pca(SpecReader& spec);

// make_step on parsed JSON (Pipeline reads a whole file, then each step).
std::unique_ptr<Step> make_step_from_json(const Json& spec);

}  // namespace loom::data::detail
