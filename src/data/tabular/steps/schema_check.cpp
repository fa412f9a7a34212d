// schema_check (schema_check.h).
#include "loom/data/tabular/schema_check.h"

#include <algorithm>

#include "data/tabular/steps/columns.h"
#include "data/tabular/steps/factories.h"

namespace loom::data {

using detail::Want;

namespace {

const char* type_name(ColumnType t) { return t == ColumnType::numeric ? "numeric" : "categorical"; }

// The labels used in `c`, sorted.
std::vector<std::string> used_labels(const Column& c) {
  std::vector<char> used(c.categories.size(), 0);
  for (double v : c.values) {
    if (!Column::is_missing(v) && v >= 0 && static_cast<size_t>(v) < used.size())
      used[static_cast<size_t>(v)] = 1;
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

}  // namespace

SchemaCheck::SchemaCheck(Options options) : StepWith(std::move(options)) {}

void SchemaCheck::fit(const Table& table) {
  State st;
  st.columns = detail::choose_columns(table, options_.columns, target_, Want::any, kind());
  const auto idx = detail::find_columns(table, st.columns, Want::any, kind());
  st.categories.resize(idx.size());
  for (int64_t i : idx)
    st.types.push_back(table.column(i).type);
  detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t k) {
    const Column& c = table.column(idx[static_cast<size_t>(k)]);
    if (c.type == ColumnType::categorical)
      st.categories[static_cast<size_t>(k)] = used_labels(c);
  });
  set_state(std::move(st));
}

Table SchemaCheck::transform(const Table& table) const {
  check_fitted();
  const auto idx = detail::find_columns(table, state_.columns, Want::any, kind());
  for (size_t k = 0; k < idx.size(); ++k) {
    const Column& c = table.column(idx[k]);
    LOOM_CHECK(c.type == state_.types[k], kind(), ": column '", c.name, "' is ", type_name(c.type), " but was ",
               type_name(state_.types[k]), " at fit");
  }
  if (!options_.allow_extra) {
    for (const Column& c : table.columns()) {
      LOOM_CHECK(
          c.name == target_ || std::find(state_.columns.begin(), state_.columns.end(), c.name) != state_.columns.end(),
          kind(), ": column '", c.name, "' was not in the data at fit (which had ", detail::quoted_list(state_.columns),
          "); drop it, or set allow_extra");
    }
  }
  if (options_.check_categories) {
    detail::parallel_each(static_cast<int64_t>(idx.size()), [&](int64_t kk) {
      const size_t k = static_cast<size_t>(kk);
      if (state_.types[k] != ColumnType::categorical)
        return;
      const Column& c = table.column(idx[k]);
      const auto& known = state_.categories[k];
      for (const std::string& label : used_labels(c)) {
        LOOM_CHECK(std::binary_search(known.begin(), known.end(), label), kind(), ": column '", c.name,
                   "' has category '", label, "', which was not seen at fit (known: ", detail::quoted_list(known), ")");
      }
    });
  }
  return table;
}

std::string SchemaCheck::to_json() const {
  detail::SpecWriter w(*this);
  w.set_columns(options_.columns);
  w.set("allow_extra", options_.allow_extra);
  w.set("check_categories", options_.check_categories);
  if (fitted_) {
    detail::Json& s = w.state();
    s["columns"] = detail::strings_to_json(state_.columns);
    s["types"] = detail::column_types_to_json(state_.types);
    s["categories"] = detail::string_lists_to_json(state_.categories);
  }
  return w.dump();
}

std::unique_ptr<Step> detail::make_schema_check(SpecReader& spec) {
  SchemaCheckOptions o;
  o.columns = spec.strings("columns");
  o.allow_extra = spec.boolean("allow_extra", false);
  o.check_categories = spec.boolean("check_categories", true);
  auto step = std::make_unique<SchemaCheck>(o);
  if (const Json* saved = spec.state()) {
    StateReader r(*saved, spec.kind());
    SchemaCheckState st;
    st.columns = r.strings("columns");
    const auto d = static_cast<int64_t>(st.columns.size());
    st.types = r.column_types("types", d);
    st.categories = r.string_lists("categories", d);
    step->set_state(std::move(st));
  }
  return step;
}

}  // namespace loom::data
