// log and power (power.h).
#include "loom/data/tabular/power.h"

#include <cmath>
#include <limits>

#include "data/tabular/steps/brent.h"
#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

// ---- log ----------------------------------------------------------------------

Log::Log(Options options) : StepWith(std::move(options)) {}

void Log::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  set_state(std::move(st));
}

Table Log::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  return detail::map_columns(table, idx, [&](int64_t k, const double* src, double* dst, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      LOOM_CHECK(!(src[r] <= -1.0), kind(), ": column '", state_.columns[static_cast<size_t>(k)], "' has ", src[r],
                 " at row ", r, "; log1p needs values > -1 (shift the column, or use power with yeo_johnson)");
      dst[r] = std::log1p(src[r]);
    }
  });
}

std::string Log::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  if (fitted_)
    w.state()["columns"] = detail::strings_to_json(state_.columns);
  return w.dump();
}

std::unique_ptr<Step> detail::make_log(SpecReader& spec) {
  LogOptions o;
  o.columns = spec.strings("columns");
  auto step = std::make_unique<Log>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    step->set_state({r.strings("columns")});
  }
  return step;
}

// ---- power --------------------------------------------------------------------

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();  // numpy.spacing(1.0)

// scikit-learn's _yeo_johnson_transform.
double yeo_johnson(double x, double lambda) {
  if (x >= 0)
    return std::abs(lambda) < kEps ? std::log1p(x) : (std::pow(x + 1, lambda) - 1) / lambda;
  return std::abs(lambda - 2) > kEps ? -(std::pow(-x + 1, 2 - lambda) - 1) / (2 - lambda) : -std::log1p(-x);
}

// scipy.special.boxcox.
double box_cox(double x, double lambda) {
  return std::abs(lambda) < 1e-19 ? std::log(x) : std::expm1(lambda * std::log(x)) / lambda;
}

// numpy's x.var(): mean by pairwise sum, then the mean squared deviation.
double numpy_var(std::vector<double>& t) {
  const int64_t n = static_cast<int64_t>(t.size());
  const double mean = detail::numpy_sum(t.data(), n) / static_cast<double>(n);
  for (double& v : t)
    v = (v - mean) * (v - mean);
  return detail::numpy_sum(t.data(), n) / static_cast<double>(n);
}

// scikit-learn's _yeo_johnson_optimize: the lambda maximising the log-likelihood.
double fit_yeo_johnson(const std::vector<double>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<double> t(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double sign = x[i] > 0 ? 1.0 : (x[i] < 0 ? -1.0 : 0.0);
    t[i] = sign * std::log1p(std::abs(x[i]));
  }
  const double log_sum = detail::numpy_sum(t.data(), n);
  auto neg_log_likelihood = [&](double lambda) {
    for (size_t i = 0; i < x.size(); ++i)
      t[i] = yeo_johnson(x[i], lambda);
    const double var = numpy_var(t);
    if (var < std::numeric_limits<double>::min())
      return std::numeric_limits<double>::infinity();
    double loglike = -static_cast<double>(n) / 2 * std::log(var);
    loglike += (lambda - 1) * log_sum;
    return -loglike;
  };
  return detail::brent_minimize(neg_log_likelihood, -2.0, 2.0);
}

// scipy.stats.boxcox_normmax(method="mle"): maximises scipy's boxcox_llf.
double fit_box_cox(const std::vector<double>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<double> logx(x.size()), t(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    logx[i] = std::log(x[i]);
  const double log_sum = detail::numpy_sum(logx.data(), n);
  auto neg_llf = [&](double lambda) {
    if (lambda == 0) {
      t = logx;
    } else {
      for (size_t i = 0; i < x.size(); ++i)
        t[i] = std::pow(x[i], lambda) / lambda;
    }
    const double var = numpy_var(t);
    return -((lambda - 1) * log_sum - static_cast<double>(n) / 2 * std::log(var));
  };
  return detail::brent_minimize(neg_llf, -2.0, 2.0);
}

void check_positive(const Column& c, const std::string& kind) {
  for (size_t r = 0; r < c.values.size(); ++r) {
    LOOM_CHECK(!(c.values[r] <= 0), kind, ": Box-Cox needs strictly positive data but column '", c.name, "' has ",
               c.values[r], " at row ", r, "; use method yeo_johnson");
  }
}

}  // namespace

Power::Power(Options options) : StepWith(std::move(options)) {}

void Power::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::numeric, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::numeric, kind());
  const size_t d = idx.size();
  st.lambdas.resize(d);
  st.mean.assign(d, 0.0);
  st.scale.assign(d, 1.0);
  const bool yj = options_.method == PowerMethod::yeo_johnson;
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    if (!yj)
      check_positive(c, kind());
    const std::vector<double> x = detail::present_values(c.values.data(), c.rows());
    detail::check_not_empty(c, static_cast<int64_t>(x.size()), kind());
    const double lambda = yj ? fit_yeo_johnson(x) : fit_box_cox(x);
    st.lambdas[k] = lambda;
    if (options_.standardize) {
      std::vector<double> t(c.values.size());
      for (size_t r = 0; r < t.size(); ++r)
        t[r] = std::isnan(c.values[r]) ? c.values[r]
                                       : (yj ? yeo_johnson(c.values[r], lambda) : box_cox(c.values[r], lambda));
      const detail::Moments m = detail::nan_moments(t.data(), static_cast<int64_t>(t.size()));
      st.mean[k] = m.mean;
      st.scale[k] = detail::is_constant_feature(m.var, m.mean, m.count) ? 1.0 : std::sqrt(m.var);
    }
  });
  set_state(std::move(st));
}

Table Power::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::numeric, kind());
  const bool yj = options_.method == PowerMethod::yeo_johnson;
  if (!yj) {
    for (int64_t i : idx)
      check_positive(table.column(i), kind());
  }
  return detail::map_columns(table, idx, [&](int64_t kk, const double* src, double* dst, int64_t r0, int64_t r1) {
    const size_t k = static_cast<size_t>(kk);
    const double lambda = state_.lambdas[k], mean = state_.mean[k], scale = state_.scale[k];
    for (int64_t r = r0; r < r1; ++r) {
      const double t = yj ? yeo_johnson(src[r], lambda) : box_cox(src[r], lambda);
      dst[r] = (t - mean) / scale;
    }
  });
}

std::string Power::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("method", options_.method == PowerMethod::yeo_johnson ? "yeo_johnson" : "box_cox");
  w.set("standardize", options_.standardize);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["lambdas"] = detail::numbers_to_json(state_.lambdas);
    s["mean"] = detail::numbers_to_json(state_.mean);
    s["scale"] = detail::numbers_to_json(state_.scale);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_power(SpecReader& spec) {
  PowerOptions o;
  o.columns = spec.strings("columns");
  o.method = spec.choice<PowerMethod>("method", PowerMethod::yeo_johnson,
                                      {{"yeo_johnson", PowerMethod::yeo_johnson},
                                       {"yeo-johnson", PowerMethod::yeo_johnson},
                                       {"box_cox", PowerMethod::box_cox},
                                       {"box-cox", PowerMethod::box_cox}});
  o.standardize = spec.boolean("standardize", true);
  auto step = std::make_unique<Power>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    PowerState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.lambdas = r.numbers("lambdas", d);
    st.mean = r.numbers("mean", d);
    st.scale = r.numbers("scale", d);
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
