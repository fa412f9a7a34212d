// impute (impute.h).
#include "loom/data/tabular/impute.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"
#include "data/tabular/steps/stats.h"

namespace loom::data {

using detail::Want;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The most frequent value; the smallest of tied ones (scipy.stats.mode, as scikit-learn).
double most_frequent_value(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double best = v[0];
  size_t best_count = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i;
    while (j < v.size() && v[j] == v[i])
      ++j;
    if (j - i > best_count) {
      best_count = j - i;
      best = v[i];
    }
    i = j;
  }
  return best;
}

// The most frequent label (the smallest of tied ones, as scikit-learn for strings); "" when none is present.
std::string most_frequent_label(const Column& c) {
  std::vector<int64_t> counts(c.categories.size(), 0);
  for (double v : c.values) {
    if (!Column::is_missing(v))
      ++counts[static_cast<size_t>(v)];
  }
  std::string best;
  int64_t best_count = 0;
  for (size_t code = 0; code < counts.size(); ++code) {
    const std::string& label = c.categories[code];
    if (counts[code] > best_count || (counts[code] == best_count && best_count > 0 && label < best)) {
      best_count = counts[code];
      best = label;
    }
  }
  return best;
}

const char* strategy_name(ImputeStrategy s) {
  switch (s) {
    case ImputeStrategy::mean:
      return "mean";
    case ImputeStrategy::median:
      return "median";
    case ImputeStrategy::most_frequent:
      return "most_frequent";
    case ImputeStrategy::constant:
      return "constant";
  }
  return "?";
}

}  // namespace

Impute::Impute(Options options) : StepWith(std::move(options)) {}

void Impute::fit(const Table& table) {
  const bool numeric_only = options_.columns.empty();
  const auto names =
      detail::choose_columns(table, options_.columns, target_, numeric_only ? Want::numeric : Want::any, kind());
  const auto idx = detail::find_columns(table, names, Want::any, kind());
  const size_t d = idx.size();
  std::vector<double> fill(d, kNaN);
  std::vector<std::string> label(d);
  std::vector<char> empty(d, 0);
  for (size_t k = 0; k < d; ++k) {
    const Column& c = table.column(idx[k]);
    LOOM_CHECK(c.type == ColumnType::numeric || options_.strategy == ImputeStrategy::most_frequent ||
                   options_.strategy == ImputeStrategy::constant,
               kind(), ": column '", c.name, "' is categorical, which strategy ", strategy_name(options_.strategy),
               " cannot fill; use most_frequent or constant");
  }
  detail::parallel_each(static_cast<int64_t>(d), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    if (c.type == ColumnType::categorical) {
      label[k] = options_.strategy == ImputeStrategy::constant ? options_.fill_label : most_frequent_label(c);
      empty[k] = c.missing() == c.rows();
      if (empty[k])
        label[k] = options_.fill_label;
      return;
    }
    std::vector<double> v = detail::present_values(c.values.data(), c.rows());
    empty[k] = v.empty();
    if (options_.strategy == ImputeStrategy::constant || v.empty()) {
      // scikit-learn's keep_empty_features fills 0, except for the constant strategy.
      fill[k] = options_.strategy == ImputeStrategy::constant ? options_.fill_value : 0.0;
    } else if (options_.strategy == ImputeStrategy::mean) {
      fill[k] = detail::nan_moments(c.values.data(), c.rows()).mean;
    } else if (options_.strategy == ImputeStrategy::median) {
      fill[k] = detail::median(v);
    } else {
      fill[k] = most_frequent_value(std::move(v));
    }
  });
  State st;
  for (size_t k = 0; k < d; ++k) {
    // Like scikit-learn, a column with nothing to learn from is dropped (the constant strategy needs nothing).
    if (empty[k] && !options_.keep_empty_features && options_.strategy != ImputeStrategy::constant) {
      st.dropped.push_back(names[k]);
      continue;
    }
    st.columns.push_back(names[k]);
    st.types.push_back(table.column(idx[k]).type);
    st.fill.push_back(fill[k]);
    st.label.push_back(label[k]);
  }
  set_state(std::move(st));
}

Table Impute::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::any, kind());
  std::vector<int64_t> dropped;
  for (const std::string& name : state_.dropped) {
    const int64_t i = table.index_of(name);
    if (i >= 0)
      dropped.push_back(i);
  }
  for (size_t k = 0; k < idx.size(); ++k) {
    LOOM_CHECK(table.column(idx[k]).type == state_.types[k], kind(), ": column '", state_.columns[k], "' is ",
               state_.types[k] == ColumnType::numeric ? "categorical" : "numeric", " here but was ",
               state_.types[k] == ColumnType::numeric ? "numeric" : "categorical", " at fit");
  }
  // Filled columns are built here; replace_columns copies the others.
  std::vector<Column> filled(idx.size());
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& src = table.column(idx[k]);
    Column& dst = filled[k];
    dst = src;
    double value = state_.fill[k];
    if (src.type == ColumnType::categorical) {
      auto it = std::find(dst.categories.begin(), dst.categories.end(), state_.label[k]);
      value = static_cast<double>(it - dst.categories.begin());
      if (it == dst.categories.end())
        dst.categories.push_back(state_.label[k]);
    }
    for (double& v : dst.values) {
      if (Column::is_missing(v))
        v = value;
    }
  });
  std::vector<int64_t> replaced = idx;
  std::vector<std::vector<Column>> groups;
  for (Column& c : filled) {
    groups.emplace_back();
    groups.back().push_back(std::move(c));
  }
  replaced.insert(replaced.end(), dropped.begin(), dropped.end());
  groups.resize(replaced.size());  // dropped columns: empty groups
  return detail::replace_columns(table, replaced, std::move(groups), kind());
}

std::string Impute::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("strategy", strategy_name(options_.strategy));
  if (options_.strategy == ImputeStrategy::constant) {
    w.set("fill_value", detail::number_to_json(options_.fill_value));
    w.set("fill_label", options_.fill_label);
  }
  w.set("keep_empty_features", options_.keep_empty_features);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["types"] = detail::column_types_to_json(state_.types);
    s["fill"] = detail::numbers_to_json(state_.fill);
    s["label"] = detail::strings_to_json(state_.label);
    s["dropped"] = detail::strings_to_json(state_.dropped);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_impute(SpecReader& spec) {
  ImputeOptions o;
  o.columns = spec.strings("columns");
  o.strategy = spec.choice<ImputeStrategy>("strategy", ImputeStrategy::mean,
                                           {{"mean", ImputeStrategy::mean},
                                            {"median", ImputeStrategy::median},
                                            {"most_frequent", ImputeStrategy::most_frequent},
                                            {"constant", ImputeStrategy::constant}});
  // "fill_value": a number, or a string: the label for categorical columns. What
  // to_json writes has both "fill_value" (a number, "nan" for NaN) and "fill_label".
  const bool has_label = spec.has("fill_label");
  if (const Json* fv = spec.raw("fill_value")) {
    if (fv->is_string() && !has_label)
      o.fill_label = fv->get<std::string>();
    else
      o.fill_value = number_from_json(*fv, "impute: option \"fill_value\"");
  }
  o.fill_label = spec.string("fill_label", o.fill_label);
  o.keep_empty_features = spec.boolean("keep_empty_features", false);
  auto step = std::make_unique<Impute>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    ImputeState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.types = r.column_types("types", d);
    st.fill = r.numbers("fill", d);
    st.label = r.strings("label", d);
    st.dropped = r.strings("dropped");
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
