#pragma once
// Every built-in preprocessing step. Steps are usually built from a JSON spec by
// make_step (step.h) or Pipeline::from_spec (pipeline.h); the classes are here
// for code that builds them directly or reads what they learned.
//
//   loom::data::StandardScale scale;            // options as scikit-learn's defaults
//   loom::data::Table z = scale.fit_transform(train);
//   double mu = scale.state().mean[0];
//
// Spec reference ({"kind": ..., options}; defaults in brackets). Every kind takes
// "columns": [names] (default: every numeric column, every categorical one for
// one_hot / ordinal, every column for schema_check; never the target) and
// "target": name (NOTE [Target column] in step.h). An unknown option is an error.
//   schema_check        allow_extra [false], check_categories [true]
//   impute              strategy mean|median|most_frequent|constant [mean],
//                       fill_value number or string [0 / "missing_value"],
//                       keep_empty_features [false]
//   outliers            method zscore|iqr [zscore], threshold [3], factor [1.5],
//                       action clip|drop [clip]
//   minmax_scale        feature_range [0, 1], clip [false]
//   standard_scale      with_mean [true], with_std [true]
//   robust_scale        with_centering [true], with_scaling [true], quantile_range [25, 75]
//   log                 (none)
//   power               method yeo_johnson|box_cox [yeo_johnson], standardize [true]
//   one_hot             handle_unknown error|ignore [error]
//   ordinal             handle_unknown error|use_encoded_value [error], unknown_value [-1]
//   discretize          n_bins [5], strategy uniform|quantile [quantile], encode ordinal
//   variance_threshold  threshold [0]
//   correlation_filter  threshold [0.95]
//   select_k_best       score f_classif|mutual_info [f_classif], k integer|"all" [10],
//                       bins [10] (mutual_info)
//   polynomial          degree [2], interaction_only [false], include_bias [false]
//   pca                 n_components [0 = all] or variance (a fraction), whiten [false]
// A saved step adds "state": what fit learned (each header's *State struct).
#include "loom/data/tabular/discretize.h"
#include "loom/data/tabular/encoders.h"
#include "loom/data/tabular/feature_selection.h"
#include "loom/data/tabular/impute.h"
#include "loom/data/tabular/outliers.h"
#include "loom/data/tabular/pca.h"
#include "loom/data/tabular/polynomial.h"
#include "loom/data/tabular/power.h"
#include "loom/data/tabular/scalers.h"
#include "loom/data/tabular/schema_check.h"
#include "loom/data/tabular/step.h"
#include "loom/data/tabular/step_state.h"
