// one_hot and ordinal (encoders.h).
#include "loom/data/tabular/encoders.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"

namespace loom::data {

using detail::Want;

namespace {

// The labels used in `c` (codes that occur), sorted as scikit-learn sorts them.
std::vector<std::string> used_labels(const Column& c) {
  std::vector<char> used(c.categories.size(), 0);
  for (double v : c.values) {
    if (!Column::is_missing(v)) {
      const auto code = static_cast<size_t>(v);
      LOOM_CHECK(v >= 0 && code < c.categories.size() && static_cast<double>(code) == v, "column '", c.name,
                 "' holds code ", v, " but has ", c.categories.size(), " categories");
      used[code] = 1;
    }
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < used.size(); ++i) {
    if (used[i])
      out.push_back(c.categories[i]);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// For each code of `c`, its index in the fitted `sorted` labels, or -1 when unseen.
std::vector<int64_t> code_map(const Column& c, const std::vector<std::string>& sorted) {
  std::vector<int64_t> out(c.categories.size(), -1);
  for (size_t code = 0; code < c.categories.size(); ++code) {
    auto it = std::lower_bound(sorted.begin(), sorted.end(), c.categories[code]);
    if (it != sorted.end() && *it == c.categories[code])
      out[code] = it - sorted.begin();
  }
  return out;
}

[[noreturn]] void unknown(const std::string& kind, const Column& c, int64_t row) {
  const double v = c.values[static_cast<size_t>(row)];
  const std::string label = Column::is_missing(v) ? std::string("a missing value")
                                                  : "category '" + c.categories[static_cast<size_t>(v)] + "'";
  LOOM_THROW(ValueError, kind, ": column '", c.name, "' has ", label, " at row ", row,
             " that was not seen at fit; refit on data that has it, or set handle_unknown");
}

std::vector<std::vector<std::string>> fit_categories(const Table& table, const std::vector<int64_t>& idx) {
  std::vector<std::vector<std::string>> out(idx.size());
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t k) {
    out[static_cast<size_t>(k)] = used_labels(table.column(idx[static_cast<size_t>(k)]));
  });
  return out;
}

const char* unknown_name(HandleUnknown h) {
  return h == HandleUnknown::error ? "error" : (h == HandleUnknown::ignore ? "ignore" : "use_encoded_value");
}

}  // namespace

// ---- one_hot ------------------------------------------------------------------

OneHot::OneHot(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.handle_unknown != HandleUnknown::use_encoded_value, kind(),
             ": handle_unknown must be error or ignore");
}

void OneHot::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::categorical, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::categorical, kind());
  st.categories = fit_categories(table, idx);
  for (int64_t i : idx)
    st.missing_category.push_back(table.column(i).missing() > 0);
  set_state(std::move(st));
}

Table OneHot::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::categorical, kind());
  const int64_t n = table.rows();
  std::vector<std::vector<Column>> groups(idx.size());
  // Per column: the fitted category index of each row (-1: unknown, encoded as zeros).
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    const auto& cats = state_.categories[k];
    const bool has_nan = state_.missing_category[k];
    const auto map = code_map(c, cats);
    auto& group = groups[k];
    for (const std::string& label : cats)
      group.push_back(detail::numeric_column(c.name + "_" + label, n));
    if (has_nan)
      group.push_back(detail::numeric_column(c.name + "_nan", n));
    for (int64_t r = 0; r < n; ++r) {
      const double v = c.values[static_cast<size_t>(r)];
      int64_t j = -1;
      if (Column::is_missing(v))
        j = has_nan ? static_cast<int64_t>(cats.size()) : -1;
      else
        j = map[static_cast<size_t>(v)];
      if (j < 0) {
        if (options_.handle_unknown == HandleUnknown::error)
          unknown(kind(), c, r);
        continue;
      }
      group[static_cast<size_t>(j)].values[static_cast<size_t>(r)] = 1.0;
    }
  });
  return detail::replace_columns(table, idx, std::move(groups), kind());
}

std::string OneHot::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("handle_unknown", unknown_name(options_.handle_unknown));
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["categories"] = detail::string_lists_to_json(state_.categories);
    detail::Json missing = detail::Json::array();
    for (bool m : state_.missing_category)
      missing.push_back(m);
    s["missing_category"] = missing;
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_one_hot(SpecReader& spec) {
  OneHotOptions o;
  o.columns = spec.strings("columns");
  o.handle_unknown = spec.choice<HandleUnknown>("handle_unknown", HandleUnknown::error,
                                                {{"error", HandleUnknown::error}, {"ignore", HandleUnknown::ignore}});
  auto step = std::make_unique<OneHot>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    OneHotState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.categories = r.string_lists("categories", d);
    st.missing_category = r.booleans("missing_category", d);
    step->set_state(std::move(st));
  }
  return step;
}

// ---- ordinal ------------------------------------------------------------------

Ordinal::Ordinal(Options options) : StepWith(std::move(options)) {
  LOOM_CHECK(options_.handle_unknown != HandleUnknown::ignore, kind(),
             ": handle_unknown must be error or use_encoded_value");
}

void Ordinal::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::categorical, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::categorical, kind());
  st.categories = fit_categories(table, idx);
  set_state(std::move(st));
}

Table Ordinal::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::categorical, kind());
  const int64_t n = table.rows();
  std::vector<std::vector<Column>> groups(idx.size());
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t kk) {
    const size_t k = static_cast<size_t>(kk);
    const Column& c = table.column(idx[k]);
    const auto map = code_map(c, state_.categories[k]);
    Column out = detail::numeric_column(c.name, n);
    for (int64_t r = 0; r < n; ++r) {
      const double v = c.values[static_cast<size_t>(r)];
      double code = v;  // missing stays missing
      if (!Column::is_missing(v)) {
        const int64_t j = map[static_cast<size_t>(v)];
        if (j < 0 && options_.handle_unknown == HandleUnknown::error)
          unknown(kind(), c, r);
        code = j < 0 ? options_.unknown_value : static_cast<double>(j);
      }
      out.values[static_cast<size_t>(r)] = code;
    }
    groups[k].push_back(std::move(out));
  });
  return detail::replace_columns(table, idx, std::move(groups), kind());
}

std::string Ordinal::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("handle_unknown", unknown_name(options_.handle_unknown));
  if (options_.handle_unknown == HandleUnknown::use_encoded_value)
    w.set("unknown_value", detail::number_to_json(options_.unknown_value));
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["categories"] = detail::string_lists_to_json(state_.categories);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_ordinal(SpecReader& spec) {
  OrdinalOptions o;
  o.columns = spec.strings("columns");
  o.handle_unknown = spec.choice<HandleUnknown>(
      "handle_unknown", HandleUnknown::error,
      {{"error", HandleUnknown::error}, {"use_encoded_value", HandleUnknown::use_encoded_value}});
  if (const Json* v = spec.raw("unknown_value"))
    o.unknown_value = number_from_json(*v, "ordinal: option \"unknown_value\"");
  auto step = std::make_unique<Ordinal>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    OrdinalState st;
    st.columns = r.strings("columns");
    st.categories = r.string_lists("categories", static_cast<int64_t>(st.columns.size()));
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
