// minmax_scale, standard_scale, robust_scale (scalers.h).
#include "loom/data/tabular/scalers.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

namespace {

// scikit-learn's _handle_zeros_in_scale: a spread below 10 eps scales by 1.
double nonzero_scale(double scale) { return scale < 10 * std::numeric_limits<double>::epsilon() ? 1.0 : scale; }

}  // namespace

// ---- minmax_scale -------------------------------------------------------------

MinMaxScale::MinMaxScale(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.range_min < options_.range_max, kind(), ": feature_range must have min < max, found [",
             options_.range_min, ", ", options_.range_max, "]");
}

void MinMaxScale::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const size_t d = idx.size();
  st.data_min.resize(d);
  st.data_max.resize(d);
  st.scale.resize(d);
  st.offset.resize(d);
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t k) {
    const Column& c = table.column(idx[static_cast<size_t>(k)]);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    int64_t present = 0;
    for (double v : c.values) {
      if (!std::isnan(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        ++present;
      }
    }
    detail::check_not_empty(c, present, kind());
    const size_t i = static_cast<size_t>(k);
    st.data_min[i] = lo;
    st.data_max[i] = hi;
    st.scale[i] = (options_.range_max - options_.range_min) / nonzero_scale(hi - lo);
    st.offset[i] = options_.range_min - lo * st.scale[i];
  });
  set_state(std::move(st));
}

Table MinMaxScale::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
    const double scale = state_.scale[static_cast<size_t>(k)], offset = state_.offset[static_cast<size_t>(k)];
    for (int64_t r = r0; r < r1; ++r)
      dst[r] = src[r] * scale + offset;
    if (options_.clip) {
      for (int64_t r = r0; r < r1; ++r)
        dst[r] = std::isnan(dst[r]) ? dst[r] : std::clamp(dst[r], options_.range_min, options_.range_max);
    }
  });
}

std::string MinMaxScale::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("feature_range", detail::Json::array({options_.range_min, options_.range_max}));
  w.set("clip", options_.clip);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["data_min"] = detail::numbers_to_json(state_.data_min);
    s["data_max"] = detail::numbers_to_json(state_.data_max);
    s["scale"] = detail::numbers_to_json(state_.scale);
    s["offset"] = detail::numbers_to_json(state_.offset);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_minmax_scale(SpecReader& spec) {
  MinMaxScaleOptions o;
  o.columns = spec.strings("columns");
  const auto range = spec.numbers("feature_range", {0.0, 1.0}, 2);
  o.range_min = range[0];
  o.range_max = range[1];
  o.clip = spec.boolean("clip", false);
  auto step = std::make_unique<MinMaxScale>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    MinMaxScaleState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.data_min = r.numbers("data_min", d);
    st.data_max = r.numbers("data_max", d);
    st.scale = r.numbers("scale", d);
    st.offset = r.numbers("offset", d);
    step->set_state(std::move(st));
  }
  return step;
}

// ---- standard_scale -----------------------------------------------------------

StandardScale::StandardScale(Options options) : StepWith(std::move(options)) {}

void StandardScale::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const size_t d = idx.size();
  st.mean.resize(d);
  st.var.resize(d);
  st.scale.resize(d);
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t k) {
    const Column& c = table.column(idx[static_cast<size_t>(k)]);
    const detail::Moments m = detail::nan_moments(c.values.data(), c.rows());
    detail::check_not_empty(c, m.count, kind());
    const size_t i = static_cast<size_t>(k);
    st.mean[i] = m.mean;
    st.var[i] = m.var;
    // Near-constant columns are found on the variance, before the square root (as scikit-learn).
    st.scale[i] = detail::is_constant_feature(m.var, m.mean, m.count) ? 1.0 : std::sqrt(m.var);
  });
  set_state(std::move(st));
}

Table StandardScale::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
    const double mean = options_.with_mean ? state_.mean[static_cast<size_t>(k)] : 0.0;
    const double scale = options_.with_std ? state_.scale[static_cast<size_t>(k)] : 1.0;
    for (int64_t r = r0; r < r1; ++r)
      dst[r] = (src[r] - mean) / scale;
  });
}

std::string StandardScale::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("with_mean", options_.with_mean);
  w.set("with_std", options_.with_std);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["mean"] = detail::numbers_to_json(state_.mean);
    s["var"] = detail::numbers_to_json(state_.var);
    s["scale"] = detail::numbers_to_json(state_.scale);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_standard_scale(SpecReader& spec) {
  StandardScaleOptions o;
  o.columns = spec.strings("columns");
  o.with_mean = spec.boolean("with_mean", true);
  o.with_std = spec.boolean("with_std", true);
  auto step = std::make_unique<StandardScale>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    StandardScaleState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.mean = r.numbers("mean", d);
    st.var = r.numbers("var", d);
    st.scale = r.numbers("scale", d);
    step->set_state(std::move(st));
  }
  return step;
}

// ---- robust_scale -------------------------------------------------------------

RobustScale::RobustScale(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(
      0 <= options_.quantile_min && options_.quantile_min <= options_.quantile_max && options_.quantile_max <= 100,
      kind(), ": quantile_range must satisfy 0 <= min <= max <= 100, found [", options_.quantile_min, ", ",
      options_.quantile_max, "]");
}

void RobustScale::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const size_t d = idx.size();
  st.center.assign(d, 0.0);
  st.scale.assign(d, 1.0);
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t k) {
    const Column& c = table.column(idx[static_cast<size_t>(k)]);
    std::vector<double> v = detail::present_values(c.values.data(), c.rows());
    detail::check_not_empty(c, static_cast<int64_t>(v.size()), kind());
    const size_t i = static_cast<size_t>(k);
    if (options_.with_centering)
      st.center[i] = detail::median(v);
    if (options_.with_scaling) {
      const double lo = detail::percentile(v, options_.quantile_min);
      const double hi = detail::percentile(v, options_.quantile_max);
      st.scale[i] = nonzero_scale(hi - lo);
    }
  });
  set_state(std::move(st));
}

Table RobustScale::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
    const double center = state_.center[static_cast<size_t>(k)], scale = state_.scale[static_cast<size_t>(k)];
    for (int64_t r = r0; r < r1; ++r)
      dst[r] = (src[r] - center) / scale;
  });
}

std::string RobustScale::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("with_centering", options_.with_centering);
  w.set("with_scaling", options_.with_scaling);
  w.set("quantile_range", detail::Json::array({options_.quantile_min, options_.quantile_max}));
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["center"] = detail::numbers_to_json(state_.center);
    s["scale"] = detail::numbers_to_json(state_.scale);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_robust_scale(SpecReader& spec) {
  RobustScaleOptions o;
  o.columns = spec.strings("columns");
  o.with_centering = spec.boolean("with_centering", true);
  o.with_scaling = spec.boolean("with_scaling", true);
  const auto range = spec.numbers("quantile_range", {25.0, 75.0}, 2);
  o.quantile_min = range[0];
  o.quantile_max = range[1];
  auto step = std::make_unique<RobustScale>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    RobustScaleState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.center = r.numbers("center", d);
    st.scale = r.numbers("scale", d);
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
