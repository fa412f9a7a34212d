// select_k_best (feature_selection.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"
#include "loom/data/tabular/feature_selection.h"

namespace loom::data {

using detail::Want;

namespace {

// Class index of every row: the sorted distinct target values (numpy.unique).
struct Classes {
  std::vector<int64_t> of_row;
  int64_t count = 0;
};

Classes classes_of(const std::vector<double>& y) {
  std::vector<double> distinct = y;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  Classes c;
  c.count = static_cast<int64_t>(distinct.size());
  c.of_row.reserve(y.size());
  for (double v : y)
    c.of_row.push_back(std::lower_bound(distinct.begin(), distinct.end(), v) - distinct.begin());
  return c;
}

// scikit-learn's f_oneway on one column, with its order of operations.
double f_classif(const double* x, const Classes& cls) {
  const auto nc = static_cast<size_t>(cls.count);
  std::vector<double> sums(nc, 0.0), squares(nc, 0.0);
  std::vector<int64_t> counts(nc, 0);
  for (size_t r = 0; r < cls.of_row.size(); ++r) {
    const auto c = static_cast<size_t>(cls.of_row[r]);
    sums[c] += x[r];
    squares[c] += x[r] * x[r];
    ++counts[c];
  }
  double ss_alldata = 0, sums_all = 0;
  for (size_t c = 0; c < nc; ++c) {
    ss_alldata += squares[c];
    sums_all += sums[c];
  }
  const double n = static_cast<double>(cls.of_row.size());
  const double square_of_sums_alldata = sums_all * sums_all;
  const double sstot = ss_alldata - square_of_sums_alldata / n;
  double ssbn = 0;
  for (size_t c = 0; c < nc; ++c)
    ssbn += sums[c] * sums[c] / static_cast<double>(counts[c]);
  ssbn -= square_of_sums_alldata / n;
  const double sswn = sstot - ssbn;
  const double msb = ssbn / static_cast<double>(cls.count - 1);
  const double msw = sswn / (n - static_cast<double>(cls.count));
  return msb / msw;
}

// Equal-frequency bin of each value: edges at the quantiles, duplicates merged.
std::vector<int64_t> quantile_bins(const double* x, int64_t n, int64_t bins) {
  std::vector<double> sorted(x, x + n);
  std::sort(sorted.begin(), sorted.end());
  std::vector<double> inner;
  for (int64_t b = 1; b < bins; ++b) {
    const double e = detail::percentile_sorted(sorted, 100.0 * static_cast<double>(b) / static_cast<double>(bins));
    if (inner.empty() || e > inner.back())
      inner.push_back(e);
  }
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t r = 0; r < n; ++r)
    out[static_cast<size_t>(r)] = std::upper_bound(inner.begin(), inner.end(), x[r]) - inner.begin();
  return out;
}

// Plug-in mutual information (nats) between two discrete codings of the rows.
double mutual_information(const std::vector<int64_t>& a, int64_t na, const std::vector<int64_t>& b, int64_t nb) {
  std::vector<double> joint(static_cast<size_t>(na * nb), 0.0), pa(static_cast<size_t>(na), 0.0),
      pb(static_cast<size_t>(nb), 0.0);
  for (size_t r = 0; r < a.size(); ++r) {
    joint[static_cast<size_t>(a[r] * nb + b[r])] += 1;
    pa[static_cast<size_t>(a[r])] += 1;
    pb[static_cast<size_t>(b[r])] += 1;
  }
  const double n = static_cast<double>(a.size());
  double mi = 0;
  for (int64_t i = 0; i < na; ++i) {
    for (int64_t j = 0; j < nb; ++j) {
      const double nij = joint[static_cast<size_t>(i * nb + j)];
      if (nij > 0)
        mi += nij / n * std::log(nij * n / (pa[static_cast<size_t>(i)] * pb[static_cast<size_t>(j)]));
    }
  }
  return std::max(0.0, mi);
}

}  // namespace

SelectKBest::SelectKBest(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.k >= -1, kind(), ": k must be >= 0 or -1 (\"all\"), found ", options_.k);
  LOOM_CHECK(options_.bins >= 2, kind(), ": bins must be at least 2, found ", options_.bins);
}

void SelectKBest::fit(const Table& table) {
  LOOM_CHECK(!target_.empty(), kind(),
             ": needs the target column to score columns against; fit it with Pipeline::fit(table, \"<target>\") "
             "or give \"target\" in its spec");
  const int64_t t = table.index_of(target_);
  LOOM_CHECK(t >= 0, kind(), ": the target column '", target_, "' is not in the table at fit");
  const Column& target = table.column(t);
  detail::check_complete(target, kind());

  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const int64_t n = table.rows();
  st.scores.resize(idx.size());

  Classes cls;
  std::vector<int64_t> y_codes;
  int64_t y_levels = 0;
  if (options_.score == SelectScore::f_classif) {
    cls = classes_of(target.values);
    LOOM_CHECK(cls.count >= 2 && cls.count < n, kind(), ": f_classif needs between 2 and rows - 1 target classes; '",
               target_, "' has ", cls.count, " distinct values in ", n, " rows");
  } else {
    cls = classes_of(target.values);
    if (target.type == ColumnType::numeric && cls.count > options_.bins) {
      y_codes = quantile_bins(target.values.data(), n, options_.bins);
      y_levels = options_.bins;
    } else {
      y_codes = cls.of_row;
      y_levels = cls.count;
    }
  }
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    detail::check_complete(c, kind());
    if (options_.score == SelectScore::f_classif) {
      st.scores[k] = f_classif(c.values.data(), cls);
    } else {
      const auto x_codes = quantile_bins(c.values.data(), n, options_.bins);
      st.scores[k] = mutual_information(x_codes, options_.bins, y_codes, y_levels);
    }
  });

  // SelectKBest: a stable ascending sort of the scores (NaN lowest), the last k kept.
  const int64_t d = static_cast<int64_t>(idx.size());
  const int64_t k = options_.k < 0 ? d : std::min(options_.k, d);
  std::vector<int64_t> order(idx.size());
  std::iota(order.begin(), order.end(), 0);
  auto clean = [&](int64_t i) {
    const double s = st.scores[static_cast<size_t>(i)];
    return std::isnan(s) ? std::numeric_limits<double>::lowest() : s;
  };
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return clean(a) < clean(b); });
  std::vector<char> keep(idx.size(), 0);
  for (int64_t i = d - k; i < d; ++i)
    keep[static_cast<size_t>(order[static_cast<size_t>(i)])] = 1;
  for (size_t i = 0; i < idx.size(); ++i) {
    if (!keep[i])
      st.removed.push_back(st.columns[i]);
  }
  set_state(std::move(st));
}

Table SelectKBest::transform(const Table& table) const {
  check_fitted();
  return detail::remove_columns(table, state_.removed, kind());
}

std::string SelectKBest::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("score", options_.score == SelectScore::f_classif ? "f_classif" : "mutual_info");
  if (options_.k < 0)
    w.set("k", "all");
  else
    w.set("k", options_.k);
  if (options_.score == SelectScore::mutual_info)
    w.set("bins", options_.bins);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["scores"] = detail::numbers_to_json(state_.scores);
    s["removed"] = detail::strings_to_json(state_.removed);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_select_k_best(SpecReader& spec) {
  SelectKBestOptions o;
  o.columns = spec.strings("columns");
  o.score =
      spec.choice<SelectScore>("score", SelectScore::f_classif,
                               {{"f_classif", SelectScore::f_classif}, {"mutual_info", SelectScore::mutual_info}});
  const Json* k = spec.raw("k");
  if (k != nullptr && k->is_string() && k->get<std::string>() == "all")
    o.k = -1;
  else if (k != nullptr)
    o.k = spec.integer("k", 10, 0);
  o.bins = spec.integer("bins", 10, 2);
  auto step = std::make_unique<SelectKBest>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    SelectKBestState st;
    st.columns = r.strings("columns");
    st.scores = r.numbers("scores", static_cast<int64_t>(st.columns.size()));
    st.removed = r.strings("removed");
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
