#include "data/tabular/steps/columns.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::data::detail {
namespace {

constexpr int64_t kBlockRows = 16384;

const char* type_name(ColumnType t) { return t == ColumnType::numeric ? "numeric" : "categorical"; }

bool wanted(ColumnType t, Want want) {
  return want == Want::any || (want == Want::numeric) == (t == ColumnType::numeric);
}

std::string table_names(const Table& table) {
  std::vector<std::string> names;
  for (const Column& c : table.columns())
    names.push_back(c.name);
  return quoted_list(names);
}

std::string type_hint(Want want) {
  return want == Want::numeric ? "this step takes numeric columns; encode categorical ones first (one_hot, ordinal)"
                               : "this step takes categorical columns; discretize numeric ones first";
}

}  // namespace

std::string quoted_list(const std::vector<std::string>& names) {
  std::ostringstream os;
  constexpr size_t kMax = 20;
  for (size_t i = 0; i < names.size() && i < kMax; ++i)
    os << (i ? ", " : "") << "'" << names[i] << "'";
  if (names.size() > kMax)
    os << ", ... (" << names.size() << " in all)";
  if (names.empty())
    os << "(none)";
  return os.str();
}

std::vector<std::string> choose_columns(const Table& table, const std::vector<std::string>& requested,
                                        const std::string& target, Want want, const std::string& kind) {
  std::vector<std::string> out;
  if (requested.empty()) {
    for (const Column& c : table.columns()) {
      if (c.name != target && wanted(c.type, want))
        out.push_back(c.name);
    }
    return out;
  }
  std::set<std::string> seen;
  for (const std::string& name : requested) {
    const int64_t i = table.index_of(name);
    LOOM_CHECK(i >= 0, kind, ": option \"columns\" names '", name, "' but the table has no such column; it has ",
               table_names(table));
    LOOM_CHECK(name != target, kind, ": option \"columns\" names '", name,
               "', which is the target column; steps leave the target alone");
    LOOM_CHECK(seen.insert(name).second, kind, ": option \"columns\" names '", name, "' twice");
    const Column& c = table.column(i);
    LOOM_CHECK(wanted(c.type, want), kind, ": column '", name, "' is ", type_name(c.type), "; ", type_hint(want));
    out.push_back(name);
  }
  return out;
}

std::vector<int64_t> find_columns(const Table& table, const std::vector<std::string>& names, Want want,
                                  const std::string& kind) {
  std::vector<int64_t> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    const int64_t i = table.index_of(name);
    LOOM_CHECK(i >= 0, kind, ": column '", name, "' was seen at fit but is missing from this table; it has ",
               table_names(table));
    const Column& c = table.column(i);
    LOOM_CHECK(wanted(c.type, want), kind, ": column '", name, "' is ", type_name(c.type), " here but was ",
               want == Want::numeric ? "numeric" : "categorical", " at fit");
    out.push_back(i);
  }
  return out;
}

void parallel_each(int64_t n, const std::function<void(int64_t)>& fn) {
  runtime::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      fn(i);
  });
}

void parallel_blocks(int64_t ncols, int64_t nrows, const std::function<void(int64_t, int64_t, int64_t)>& fn) {
  const int64_t blocks = std::max<int64_t>(1, (nrows + kBlockRows - 1) / kBlockRows);
  runtime::parallel_for(0, ncols * blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t k = t / blocks, b = t % blocks;
      const int64_t r0 = b * kBlockRows, r1 = std::min(nrows, r0 + kBlockRows);
      if (r0 < r1)
        fn(k, r0, r1);
    }
  });
}

Column numeric_column(std::string name, int64_t rows) {
  Column c;
  c.name = std::move(name);
  c.type = ColumnType::numeric;
  c.values.resize(static_cast<size_t>(rows));
  return c;
}

Table map_columns(const Table& src, const std::vector<int64_t>& indices,
                  const std::function<void(int64_t, const double*, double*, int64_t, int64_t)>& fn) {
  const int64_t ncols = src.cols(), nrows = src.rows();
  std::vector<int64_t> slot(static_cast<size_t>(ncols), -1);  // column -> k, or -1 to copy
  for (size_t k = 0; k < indices.size(); ++k)
    slot[static_cast<size_t>(indices[k])] = static_cast<int64_t>(k);
  std::vector<Column> out(static_cast<size_t>(ncols));
  // Allocating in parallel spreads the page faults of large columns over the threads.
  parallel_each(ncols, [&](int64_t c) {
    const Column& s = src.columns()[static_cast<size_t>(c)];
    if (slot[static_cast<size_t>(c)] < 0)
      out[static_cast<size_t>(c)] = s;
    else
      out[static_cast<size_t>(c)] = numeric_column(s.name, nrows);
  });
  parallel_blocks(static_cast<int64_t>(indices.size()), nrows, [&](int64_t k, int64_t r0, int64_t r1) {
    const size_t c = static_cast<size_t>(indices[static_cast<size_t>(k)]);
    fn(k, src.columns()[c].values.data(), out[c].values.data(), r0, r1);
  });
  return Table(std::move(out));
}

Table splice_columns(const Table& src, const std::vector<int64_t>& removed, std::vector<Column> added,
                     const std::string& kind) {
  std::vector<bool> drop(static_cast<size_t>(src.cols()), false);
  for (int64_t i : removed)
    drop[static_cast<size_t>(i)] = true;
  const int64_t insert_at = removed.empty() ? src.cols() : *std::min_element(removed.begin(), removed.end());
  // Slots: kept columns by source index, the added ones at insert_at.
  std::vector<Column> out;
  std::vector<int64_t> copy_from;  // -1 = take the next added column
  for (int64_t c = 0; c <= src.cols(); ++c) {
    if (c == insert_at) {
      for (size_t a = 0; a < added.size(); ++a)
        copy_from.push_back(-1);
    }
    if (c < src.cols() && !drop[static_cast<size_t>(c)])
      copy_from.push_back(c);
  }
  out.resize(copy_from.size());
  size_t next_added = 0;
  std::vector<int64_t> to_copy;
  for (size_t o = 0; o < copy_from.size(); ++o) {
    if (copy_from[o] < 0)
      out[o] = std::move(added[next_added++]);
    else
      to_copy.push_back(static_cast<int64_t>(o));
  }
  parallel_each(static_cast<int64_t>(to_copy.size()), [&](int64_t t) {
    const size_t o = static_cast<size_t>(to_copy[static_cast<size_t>(t)]);
    out[o] = src.columns()[static_cast<size_t>(copy_from[o])];
  });
  std::set<std::string> names;
  for (const Column& c : out) {
    LOOM_CHECK(names.insert(c.name).second, kind, ": the output would have two columns named '", c.name,
               "'; rename the input column that clashes with a generated name");
  }
  return Table(std::move(out));
}

Table replace_columns(const Table& src, const std::vector<int64_t>& indices, std::vector<std::vector<Column>> groups,
                      const std::string& kind) {
  std::vector<int64_t> group_of(static_cast<size_t>(src.cols()), -1);
  for (size_t k = 0; k < indices.size(); ++k)
    group_of[static_cast<size_t>(indices[k])] = static_cast<int64_t>(k);
  std::vector<Column> out;
  std::vector<std::pair<size_t, size_t>> copies;  // (output position, source column)
  for (int64_t c = 0; c < src.cols(); ++c) {
    const int64_t g = group_of[static_cast<size_t>(c)];
    if (g < 0) {
      copies.emplace_back(out.size(), static_cast<size_t>(c));
      out.emplace_back();
      continue;
    }
    for (Column& col : groups[static_cast<size_t>(g)])
      out.push_back(std::move(col));
  }
  parallel_each(static_cast<int64_t>(copies.size()), [&](int64_t t) {
    const auto [o, c] = copies[static_cast<size_t>(t)];
    out[o] = src.columns()[c];
  });
  std::set<std::string> names;
  for (const Column& c : out) {
    LOOM_CHECK(names.insert(c.name).second, kind, ": the output would have two columns named '", c.name,
               "'; rename the input column that clashes with a generated name");
  }
  return Table(std::move(out));
}

Table remove_columns(const Table& table, const std::vector<std::string>& removed, const std::string& kind) {
  return splice_columns(table, find_columns(table, removed, Want::any, kind), {}, kind);
}

void check_complete(const Column& column, const std::string& kind) {
  for (size_t r = 0; r < column.values.size(); ++r) {
    LOOM_CHECK(!Column::is_missing(column.values[r]), kind, ": column '", column.name, "' has a missing value (row ", r,
               "); this step needs complete data, so put an impute step before it");
  }
}

void check_not_empty(const Column& column, int64_t present, const std::string& kind) {
  LOOM_CHECK(present > 0, kind, ": column '", column.name, "' has no values to fit on (all ", column.rows(),
             " rows are missing); drop the column or impute it with a constant first");
}

}  // namespace loom::data::detail
