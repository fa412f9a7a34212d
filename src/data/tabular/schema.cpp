#include "loom/data/tabular/schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "loom/core/error.h"
#include "loom/data/tabular/describe.h"

namespace loom::data {
namespace {

constexpr size_t kMaxProblems = 10;
constexpr size_t kMaxListed = 8;

const char* type_name(ColumnType t) { return t == ColumnType::numeric ? "numeric" : "categorical"; }

std::string listed(const std::vector<std::string>& labels) {
  std::ostringstream os;
  for (size_t i = 0; i < labels.size() && i < kMaxListed; ++i)
    os << (i ? ", " : "") << "'" << labels[i] << "'";
  if (labels.size() > kMaxListed)
    os << ", ... (" << labels.size() << " in all)";
  return os.str();
}

// First row (0-based) whose value is missing, or -1.
int64_t first_missing(const Column& col) {
  auto it = std::find_if(col.values.begin(), col.values.end(), [](double v) { return std::isnan(v); });
  return it == col.values.end() ? -1 : it - col.values.begin();
}

void check_numeric(const Column& col, const ColumnSchema& want, std::vector<std::string>& problems) {
  if (!want.min && !want.max)
    return;
  const double lo = want.min.value_or(-INFINITY), hi = want.max.value_or(INFINITY);
  for (size_t r = 0; r < col.values.size(); ++r) {
    double v = col.values[r];
    if (std::isnan(v) || (v >= lo && v <= hi))
      continue;
    std::ostringstream os;
    os << "column '" << col.name << "': value " << v << " in row " << r + 1 << " is outside the allowed range [" << lo
       << ", " << hi << "]";
    problems.push_back(os.str());
    return;
  }
}

void check_categorical(const Column& col, const ColumnSchema& want, std::vector<std::string>& problems) {
  if (want.categories.empty())
    return;
  // Which of the table's categories occur, and the first row of each.
  std::vector<int64_t> first_row(col.categories.size(), -1);
  for (size_t r = 0; r < col.values.size(); ++r) {
    double v = col.values[r];
    if (std::isnan(v))
      continue;
    if (v < 0 || v >= static_cast<double>(col.categories.size())) {
      problems.push_back(loom::detail::concat("column '", col.name, "': row ", r + 1, " holds code ", v,
                                              ", which is not an index into its ", col.categories.size(),
                                              " categories"));
      return;
    }
    int64_t& f = first_row[static_cast<size_t>(v)];
    if (f < 0)
      f = static_cast<int64_t>(r);
  }
  std::vector<std::string> allowed = want.categories;
  std::sort(allowed.begin(), allowed.end());
  for (size_t i = 0; i < col.categories.size(); ++i) {
    if (first_row[i] < 0 || std::binary_search(allowed.begin(), allowed.end(), col.categories[i]))
      continue;
    problems.push_back(loom::detail::concat("column '", col.name, "': category '", col.categories[i], "' in row ",
                                            first_row[i] + 1, " is not one the schema allows (",
                                            listed(want.categories), ")"));
    return;
  }
}

}  // namespace

const ColumnSchema* Schema::find(const std::string& name) const {
  for (const ColumnSchema& c : columns) {
    if (c.name == name)
      return &c;
  }
  return nullptr;
}

Schema infer_schema(const Table& table, bool strict) {
  Schema schema;
  const std::vector<ColumnStats> stats = strict ? describe(table) : std::vector<ColumnStats>{};
  for (int64_t i = 0; i < table.cols(); ++i) {
    const Column& col = table.column(i);
    ColumnSchema c;
    c.name = col.name;
    c.type = col.type;
    if (col.type == ColumnType::categorical)
      c.categories = col.categories;
    if (strict) {
      const ColumnStats& s = stats[static_cast<size_t>(i)];
      c.allow_missing = s.missing > 0;
      if (col.type == ColumnType::numeric && s.count > 0) {
        c.min = s.min;
        c.max = s.max;
      }
    }
    schema.columns.push_back(std::move(c));
  }
  return schema;
}

void validate(const Table& table, const Schema& schema, const std::string& source) {
  std::vector<std::string> problems;
  for (const ColumnSchema& want : schema.columns) {
    const int64_t i = table.index_of(want.name);
    if (i < 0) {
      problems.push_back(loom::detail::concat("missing column '", want.name, "' (", type_name(want.type), ")"));
      continue;
    }
    const Column& col = table.column(i);
    if (col.type != want.type) {
      std::string hint =
          col.type == ColumnType::categorical
              ? loom::detail::concat(" (it holds labels such as ", listed(col.categories),
                                     "; a value that is not a number makes a column categorical)")
              : std::string(" (its values are all numbers; force the type with CsvOptions::column_types)");
      problems.push_back(loom::detail::concat("column '", want.name, "' is ", type_name(col.type),
                                              " but the schema says ", type_name(want.type), hint));
      continue;
    }
    if (!want.allow_missing) {
      if (int64_t r = first_missing(col); r >= 0) {
        problems.push_back(loom::detail::concat("column '", want.name, "': ", col.missing(),
                                                " missing values (the first in row ", r + 1,
                                                ") but the schema allows none"));
      }
    }
    if (col.type == ColumnType::numeric)
      check_numeric(col, want, problems);
    else
      check_categorical(col, want, problems);
  }
  if (problems.empty())
    return;
  std::ostringstream os;
  os << source << " does not match the schema: ";
  for (size_t i = 0; i < problems.size() && i < kMaxProblems; ++i)
    os << (i ? "; " : "") << problems[i];
  if (problems.size() > kMaxProblems)
    os << "; and " << problems.size() - kMaxProblems << " more problems";
  LOOM_THROW(ValueError, os.str());
}

}  // namespace loom::data
