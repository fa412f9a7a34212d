// variance_threshold and correlation_filter (feature_selection.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/gram.h"
#include "data/tabular/steps/stats.h"
#include "loom/data/tabular/feature_selection.h"

namespace loom::data {

using detail::Want;

// ---- variance_threshold -------------------------------------------------------

VarianceThreshold::VarianceThreshold(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.threshold >= 0, kind(), ": threshold must be >= 0, found ", options_.threshold);
}

void VarianceThreshold::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  st.variances.resize(idx.size());
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t k) {
    const Column& c = table.column(idx[static_cast<size_t>(k)]);
    double var = detail::nan_moments(c.values.data(), c.rows()).var;
    if (options_.threshold == 0) {
      // As scikit-learn: the peak-to-peak range catches constant columns whose variance rounds above 0.
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (double v : c.values) {
        if (!std::isnan(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
      if (hi >= lo)
        var = std::min(var, hi - lo);
    }
    st.variances[static_cast<size_t>(k)] = var;
  });
  for (size_t k = 0; k < idx.size(); ++k) {
    if (!(st.variances[k] > options_.threshold))
      st.removed.push_back(st.columns[k]);
  }
  LOOM_CHECK(st.columns.empty() || st.removed.size() < st.columns.size(), kind(), ": no column has a variance above ",
             options_.threshold, " (", st.columns.size(), " columns checked); lower the threshold");
  set_state(std::move(st));
}

Table VarianceThreshold::transform(const Table& table) const {
  check_fitted();
  return detail::remove_columns(table, state_.removed, kind());
}

std::string VarianceThreshold::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("threshold", options_.threshold);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["variances"] = detail::numbers_to_json(state_.variances);
    s["removed"] = detail::strings_to_json(state_.removed);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_variance_threshold(SpecReader& spec) {
  VarianceThresholdOptions o;
  o.columns = spec.strings("columns");
  o.threshold = spec.number("threshold", 0.0);
  auto step = std::make_unique<VarianceThreshold>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    VarianceThresholdState st;
    st.columns = r.strings("columns");
    st.variances = r.numbers("variances", static_cast<int64_t>(st.columns.size()));
    st.removed = r.strings("removed");
    step->set_state(std::move(st));
  }
  return step;
}

// ---- correlation_filter -------------------------------------------------------

CorrelationFilter::CorrelationFilter(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.threshold >= 0 && options_.threshold <= 1, kind(), ": threshold must be in [0, 1], found ",
             options_.threshold);
}

void CorrelationFilter::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const int64_t d = static_cast<int64_t>(idx.size());
  std::vector<double> mean(idx.size());
  detail::parallel_each(d, [&](int64_t c) {
    const Column& col = table.column(idx[static_cast<size_t>(c)]);
    detail::check_complete(col, kind());
    mean[static_cast<size_t>(c)] = detail::sum(col.values.data(), col.rows()) / static_cast<double>(col.rows());
  });
  const std::vector<double> g = detail::centered_gram(table, idx, mean);
  auto at = [&](int64_t i, int64_t j) { return g[static_cast<size_t>(i * d + j)]; };
  std::vector<int64_t> kept;
  for (int64_t j = 0; j < d; ++j) {
    bool keep = true;
    for (int64_t i : kept) {
      const double denom = std::sqrt(at(i, i) * at(j, j));
      // A constant column correlates with nothing (r is undefined).
      if (denom > 0 && std::abs(at(i, j) / denom) > options_.threshold) {
        keep = false;
        break;
      }
    }
    if (keep)
      kept.push_back(j);
    else
      st.removed.push_back(st.columns[static_cast<size_t>(j)]);
  }
  set_state(std::move(st));
}

Table CorrelationFilter::transform(const Table& table) const {
  check_fitted();
  return detail::remove_columns(table, state_.removed, kind());
}

std::string CorrelationFilter::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("threshold", options_.threshold);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["removed"] = detail::strings_to_json(state_.removed);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_correlation_filter(SpecReader& spec) {
  CorrelationFilterOptions o;
  o.columns = spec.strings("columns");
  o.threshold = spec.number("threshold", 0.95);
  auto step = std::make_unique<CorrelationFilter>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    CorrelationFilterState st;
    st.columns = r.strings("columns");
    st.removed = r.strings("removed");
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
