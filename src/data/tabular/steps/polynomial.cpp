// polynomial (polynomial.h).
#include "loom/data/tabular/polynomial.h"

#include <functional>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"

namespace loom::data {

using detail::Want;

namespace {

// scikit-learn's term order: every non-decreasing (strictly increasing when
// interaction_only) index tuple of length 1..degree, by length then lexicographically.
std::vector<std::vector<int64_t>> polynomial_terms(int64_t d, int64_t degree, bool interaction_only, bool bias) {
  std::vector<std::vector<int64_t>> out;
  if (bias)
    out.emplace_back();
  std::vector<int64_t> term;
  std::function<void(int64_t, int64_t)> extend = [&](int64_t first, int64_t left) {
    if (left == 0) {
      out.push_back(term);
      return;
    }
    for (int64_t i = first; i < d; ++i) {
      term.push_back(i);
      extend(interaction_only ? i + 1 : i, left - 1);
      term.pop_back();
    }
  };
  for (int64_t len = 1; len <= degree; ++len)
    extend(0, len);
  return out;
}

// get_feature_names_out: "1", "a", "a^2 b".
std::string term_name(const std::vector<int64_t>& term, const std::vector<std::string>& names) {
  if (term.empty())
    return "1";
  std::string out;
  for (size_t i = 0; i < term.size();) {
    size_t j = i;
    while (j < term.size() && term[j] == term[i])
      ++j;
    out += (out.empty() ? "" : " ") + names[static_cast<size_t>(term[i])];
    if (j - i > 1)
      out += detail::concat("^", j - i);  // not "^" + to_string: GCC 12 warns falsely (-Wrestrict)
    i = j;
  }
  return out;
}

}  // namespace

Polynomial::Polynomial(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.degree >= 1 && options_.degree <= 8, kind(), ": degree must be in 1..8, found ", options_.degree);
}

void Polynomial::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const int64_t d = static_cast<int64_t>(st.columns.size());
  st.terms = polynomial_terms(d, options_.degree, options_.interaction_only, options_.include_bias);
  constexpr size_t kMaxTerms = 100000;
  LOOM_CHECK(st.terms.size() <= kMaxTerms, kind(), ": degree ", options_.degree, " of ", d, " columns makes ",
             st.terms.size(), " columns (more than ", kMaxTerms, "); choose fewer columns or a lower degree");
  for (const auto& t : st.terms)
    st.names.push_back(term_name(t, st.columns));
  set_state(std::move(st));
}

Table Polynomial::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  const int64_t n = table.rows(), m = static_cast<int64_t>(state_.terms.size());
  std::vector<Column> out(static_cast<size_t>(m));
  detail::parallel_each(m, [&](int64_t j) {
    out[static_cast<size_t>(j)] = detail::numeric_column(state_.names[static_cast<size_t>(j)], n);
  });
  detail::parallel_blocks(m, n, [&](int64_t j, int64_t r0, int64_t r1) {
    const auto& term = state_.terms[static_cast<size_t>(j)];
    double* dst = out[static_cast<size_t>(j)].values.data();
    for (int64_t r = r0; r < r1; ++r)
      dst[r] = 1.0;
    for (size_t f = 0; f < term.size(); ++f) {
      const double* x = table.column(idx[static_cast<size_t>(term[f])]).values.data();
      if (f == 0) {
        for (int64_t r = r0; r < r1; ++r)
          dst[r] = x[r];
      } else {
        for (int64_t r = r0; r < r1; ++r)
          dst[r] *= x[r];
      }
    }
  });
  return detail::splice_columns(table, idx, std::move(out), kind());
}

std::string Polynomial::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("degree", options_.degree);
  w.set("interaction_only", options_.interaction_only);
  w.set("include_bias", options_.include_bias);
  if (fitted_)
    w.state()["columns"] = detail::strings_to_json(state_.columns);
  return w.dump();
}

std::unique_ptr<Step> detail::make_polynomial(SpecReader& spec) {
  PolynomialOptions o;
  o.columns = spec.strings("columns");
  o.degree = spec.integer("degree", 2, 1);
  o.interaction_only = spec.boolean("interaction_only", false);
  o.include_bias = spec.boolean("include_bias", false);
  auto step = std::make_unique<Polynomial>(o);
  if (const Json* saved = spec.state()) {
    // The terms follow from the columns and the options; rebuild them exactly as fit does.
    StateReader r(*saved, spec.kind());
    PolynomialState st;
    st.columns = r.strings("columns");
    st.terms = polynomial_terms(static_cast<int64_t>(st.columns.size()), o.degree, o.interaction_only, o.include_bias);
    for (const auto& t : st.terms)
      st.names.push_back(term_name(t, st.columns));
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
