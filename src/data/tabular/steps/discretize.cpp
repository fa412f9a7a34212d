// discretize (discretize.h).
#include "loom/data/tabular/discretize.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

namespace {

// numpy.linspace(start, stop, n + 1): i * step + start, the last exactly stop.
std::vector<double> linspace(double start, double stop, int64_t n) {
  std::vector<double> out(static_cast<size_t>(n + 1));
  const double step = (stop - start) / static_cast<double>(n);
  for (int64_t i = 0; i <= n; ++i)
    out[static_cast<size_t>(i)] = static_cast<double>(i) * step + start;
  out.back() = stop;
  return out;
}

std::vector<double> fit_edges(const Column& c, int64_t n_bins, DiscretizeStrategy strategy, const std::string& kind) {
  std::vector<double> v = detail::present_values(c.values.data(), c.rows());
  detail::check_not_empty(c, static_cast<int64_t>(v.size()), kind);
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  if (*lo == *hi)  // constant: one bin, as scikit-learn
    return {-std::numeric_limits<double>::infinity(), std::numeric_limits<double>::infinity()};
  if (strategy == DiscretizeStrategy::uniform)
    return linspace(*lo, *hi, n_bins);
  std::sort(v.begin(), v.end());
  const std::vector<double> percents = linspace(0.0, 100.0, n_bins);
  std::vector<double> edges;
  for (double p : percents)
    edges.push_back(detail::percentile_sorted(v, p));
  // scikit-learn drops an edge within 1e-8 of the one before it (in the original list).
  std::vector<double> kept;
  for (size_t i = 0; i < edges.size(); ++i) {
    if (i == 0 || edges[i] - edges[i - 1] > 1e-8)
      kept.push_back(edges[i]);
  }
  return kept;
}

}  // namespace

Discretize::Discretize(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.n_bins >= 2, kind(), ": n_bins must be at least 2, found ", options_.n_bins);
}

void Discretize::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  st.edges.resize(idx.size());
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t k) {
    st.edges[static_cast<size_t>(k)] =
        fit_edges(table.column(idx[static_cast<size_t>(k)]), options_.n_bins, options_.strategy, kind());
  });
  set_state(std::move(st));
}

Table Discretize::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
    const auto& edges = state_.edges[static_cast<size_t>(k)];
    // numpy.searchsorted(edges[1:-1], x, side="right"): the inner edges <= x.
    const auto inner_begin = edges.begin() + 1, inner_end = edges.end() - 1;
    for (int64_t r = r0; r < r1; ++r) {
      dst[r] = std::isnan(src[r]) ? src[r]
                                  : static_cast<double>(std::upper_bound(inner_begin, inner_end, src[r]) - inner_begin);
    }
  });
}

std::string Discretize::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("n_bins", options_.n_bins);
  w.set("strategy", options_.strategy == DiscretizeStrategy::uniform ? "uniform" : "quantile");
  w.set("encode", "ordinal");
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    detail::Json edges = detail::Json::array();
    for (const auto& e : state_.edges)
      edges.push_back(detail::numbers_to_json(e));
    s["edges"] = edges;
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_discretize(SpecReader& spec) {
  DiscretizeOptions o;
  o.columns = spec.strings("columns");
  o.n_bins = spec.integer("n_bins", 5, 2);
  o.strategy = spec.choice<DiscretizeStrategy>(
      "strategy", DiscretizeStrategy::quantile,
      {{"uniform", DiscretizeStrategy::uniform}, {"quantile", DiscretizeStrategy::quantile}});
  if (spec.string("encode", "ordinal") != "ordinal")
    spec.fail("option \"encode\" must be \"ordinal\", the only encoding this step makes");
  auto step = std::make_unique<Discretize>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    DiscretizeState st;
    st.columns = r.strings("columns");
    st.edges = r.number_lists("edges", static_cast<int64_t>(st.columns.size()));
    for (const auto& e : st.edges) {
      if (e.size() < 2)
        r.fail("\"edges\" needs at least two edges per column");
    }
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
