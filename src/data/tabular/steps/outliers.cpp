// outliers (outliers.h).
#include "loom/data/tabular/outliers.h"

#include <algorithm>
#include <cmath>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

Outliers::Outliers(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.threshold > 0, kind(), ": threshold must be positive, found ", options_.threshold);
  LOOM_CHECK(options_.factor >= 0, kind(), ": factor must be >= 0, found ", options_.factor);
}

void Outliers::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const size_t d = idx.size();
  st.lower.resize(d);
  st.upper.resize(d);
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    if (options_.method == OutlierMethod::zscore) {
      const detail::Moments m = detail::nan_moments(c.values.data(), c.rows());
      detail::check_not_empty(c, m.count, kind());
      const double spread = options_.threshold * std::sqrt(m.var);
      st.lower[k] = m.mean - spread;
      st.upper[k] = m.mean + spread;
    } else {
      std::vector<double> v = detail::present_values(c.values.data(), c.rows());
      detail::check_not_empty(c, static_cast<int64_t>(v.size()), kind());
      const double q1 = detail::percentile(v, 25.0), q3 = detail::percentile(v, 75.0);
      st.lower[k] = q1 - options_.factor * (q3 - q1);
      st.upper[k] = q3 + options_.factor * (q3 - q1);
    }
  });
  set_state(std::move(st));
}

Table Outliers::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  if (options_.action == OutlierAction::clip) {
    return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
      const double lo = state_.lower[static_cast<size_t>(k)], hi = state_.upper[static_cast<size_t>(k)];
      for (int64_t r = r0; r < r1; ++r)
        dst[r] = std::isnan(src[r]) ? src[r] : std::min(std::max(src[r], lo), hi);
    });
  }
  // drop: a row goes when any of its values lies outside its column's bounds.
  const int64_t n = table.rows();
  std::vector<char> outside(static_cast<size_t>(n), 0);
  detail::parallel_blocks(1, n, [&](int64_t, int64_t r0, int64_t r1) {
    for (size_t k = 0; k < idx.size(); ++k) {
      const double* v = table.column(idx[k]).values.data();
      const double lo = state_.lower[k], hi = state_.upper[k];
      for (int64_t r = r0; r < r1; ++r)
        outside[static_cast<size_t>(r)] |= (v[r] < lo || v[r] > hi);
    }
  });
  std::vector<int64_t> keep;
  keep.reserve(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r) {
    if (!outside[static_cast<size_t>(r)])
      keep.push_back(r);
  }
  return table.select_rows(keep);
}

std::string Outliers::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("method", options_.method == OutlierMethod::zscore ? "zscore" : "iqr");
  if (options_.method == OutlierMethod::zscore)
    w.set("threshold", options_.threshold);
  else
    w.set("factor", options_.factor);
  w.set("action", options_.action == OutlierAction::clip ? "clip" : "drop");
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["lower"] = detail::numbers_to_json(state_.lower);
    s["upper"] = detail::numbers_to_json(state_.upper);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_outliers(SpecReader& spec) {
  OutliersOptions o;
  o.columns = spec.strings("columns");
  o.method = spec.choice<OutlierMethod>("method", OutlierMethod::zscore,
                                        {{"zscore", OutlierMethod::zscore}, {"iqr", OutlierMethod::iqr}});
  o.threshold = spec.number("threshold", 3.0);
  o.factor = spec.number("factor", 1.5);
  o.action = spec.choice<OutlierAction>("action", OutlierAction::clip,
                                        {{"clip", OutlierAction::clip}, {"drop", OutlierAction::drop}});
  auto step = std::make_unique<Outliers>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    OutliersState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.lower = r.numbers("lower", d);
    st.upper = r.numbers("upper", d);
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
