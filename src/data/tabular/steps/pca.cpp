// pca (pca.h).
#include "loom/data/tabular/pca.h"

#include <algorithm>
#include <cmath>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/gram.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

Pca::Pca(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.n_components >= 0, kind(), ": n_components must be >= 0 (0 = all), found ",
             options_.n_components);
  LOOM_CHECK(options_.variance >= 0 && options_.variance < 1, kind(),
             ": variance must be a fraction in (0, 1) (or 0 to use n_components), found ", options_.variance);
  LOOM_CHECK(options_.variance == 0 || options_.n_components == 0, kind(), ": give n_components or variance, not both");
}

void Pca::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const int64_t d = static_cast<int64_t>(idx.size()), n = table.rows();
  LOOM_CHECK(d > 0, kind(), ": no numeric columns to analyse");
  LOOM_CHECK(n >= 2, kind(), ": needs at least 2 rows to estimate a covariance, found ", n);
  st.mean.resize(static_cast<size_t>(d));
  detail::parallel_each(d, [&](int64_t c) {
    const Column& col = table.column(idx[static_cast<size_t>(c)]);
    const double s = detail::sum(col.values.data(), n);
    if (std::isnan(s))  // a missing value (found, with its row, by the check)
      detail::check_complete(col, kind());
    st.mean[static_cast<size_t>(c)] = s / static_cast<double>(n);
  });
  std::vector<double> cov = detail::centered_gram(table, idx, st.mean);
  double total = 0;
  for (int64_t i = 0; i < d; ++i) {
    for (int64_t j = 0; j < d; ++j)
      cov[static_cast<size_t>(i * d + j)] /= static_cast<double>(n - 1);
    total += cov[static_cast<size_t>(i * d + i)];
  }
  std::vector<double> eigenvalues;
  detail::symmetric_eigen(d, cov, eigenvalues);  // ascending; vectors in cov's columns

  const int64_t rank = std::min(n, d);
  std::vector<double> ratio_all;
  for (int64_t j = 0; j < rank; ++j) {
    const double ev = std::max(0.0, eigenvalues[static_cast<size_t>(d - 1 - j)]);
    ratio_all.push_back(total > 0 ? ev / total : 0.0);
  }
  int64_t k = options_.n_components == 0 ? rank : options_.n_components;
  if (options_.variance > 0) {
    // scikit-learn: searchsorted(cumsum(ratio), variance, side="right") + 1.
    double cum = 0;
    k = rank;
    for (int64_t j = 0; j < rank; ++j) {
      cum += ratio_all[static_cast<size_t>(j)];
      if (cum > options_.variance) {
        k = j + 1;
        break;
      }
    }
  }
  LOOM_CHECK(k <= rank, kind(), ": n_components is ", k, " but the data has only ", rank,
             " components (min(rows, columns) = min(", n, ", ", d, "))");
  st.components.resize(static_cast<size_t>(k * d));
  for (int64_t j = 0; j < k; ++j) {
    const int64_t src = d - 1 - j;  // descending order
    double* comp = st.components.data() + j * d;
    int64_t argmax = 0;
    for (int64_t c = 0; c < d; ++c) {
      comp[c] = cov[static_cast<size_t>(c * d + src)];
      if (std::abs(comp[c]) > std::abs(comp[argmax]))
        argmax = c;
    }
    // NOTE: the sign rule of scikit-learn >= 1.5 (pca.h): the largest |entry| is positive.
    if (comp[argmax] < 0) {
      for (int64_t c = 0; c < d; ++c)
        comp[c] = -comp[c];
    }
    st.explained_variance.push_back(std::max(0.0, eigenvalues[static_cast<size_t>(src)]));
    st.explained_variance_ratio.push_back(ratio_all[static_cast<size_t>(j)]);
  }
  set_state(std::move(st));
}

Table Pca::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  const int64_t k = static_cast<int64_t>(state_.explained_variance.size()), n = table.rows();
  std::vector<Column> out(static_cast<size_t>(k));
  detail::parallel_each(
      k, [&](int64_t j) { out[static_cast<size_t>(j)] = detail::numeric_column(detail::concat("pca", j), n); });
  detail::project(table, idx, state_.mean, state_.components, out);
  // A missing input makes its row's projections NaN: checking the k outputs is cheaper
  // than checking the inputs first; the inputs are searched only to name the column.
  if (k > 0) {
    std::vector<char> has_nan(static_cast<size_t>(k), 0);
    detail::parallel_each(k, [&](int64_t j) {
      for (double v : out[static_cast<size_t>(j)].values)
        has_nan[static_cast<size_t>(j)] |= std::isnan(v);
    });
    if (std::find(has_nan.begin(), has_nan.end(), 1) != has_nan.end()) {
      for (int64_t i : idx)
        detail::check_complete(table.column(i), kind());
    }
  }
  if (options_.whiten) {
    detail::parallel_blocks(k, n, [&](int64_t j, int64_t r0, int64_t r1) {
      const double s = std::sqrt(state_.explained_variance[static_cast<size_t>(j)]);
      double* v = out[static_cast<size_t>(j)].values.data();
      for (int64_t r = r0; r < r1; ++r)
        v[r] /= s;
    });
  }
  return detail::splice_columns(table, idx, std::move(out), kind());
}

std::string Pca::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  if (options_.variance > 0)
    w.set("variance", options_.variance);
  else
    w.set("n_components", options_.n_components);
  w.set("whiten", options_.whiten);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["mean"] = detail::numbers_to_json(state_.mean);
    s["components"] = detail::numbers_to_json(state_.components);
    s["explained_variance"] = detail::numbers_to_json(state_.explained_variance);
    s["explained_variance_ratio"] = detail::numbers_to_json(state_.explained_variance_ratio);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_pca(SpecReader& spec) {
  PcaOptions o;
  o.columns = spec.strings("columns");
  o.n_components = spec.integer("n_components", 0, 0);
  o.variance = spec.number("variance", 0.0);
  o.whiten = spec.boolean("whiten", false);
  auto step = std::make_unique<Pca>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    PcaState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.mean = r.numbers("mean", d);
    st.explained_variance = r.numbers("explained_variance");
    const auto k = static_cast<int64_t>(st.explained_variance.size());
    st.explained_variance_ratio = r.numbers("explained_variance_ratio", k);
    st.components = r.numbers("components", k * d);
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
