#include "loom/data/tabular/table.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "loom/core/error.h"
#include "loom/runtime/parallel.h"

namespace loom::data {
namespace {

// "'a', 'b', 'c'" (at most 20 names, so a 1000-column table gives a readable message).
std::string list_names(const std::vector<Column>& columns) {
  std::ostringstream os;
  constexpr size_t kMaxListed = 20;
  for (size_t i = 0; i < columns.size() && i < kMaxListed; ++i)
    os << (i ? ", " : "") << "'" << columns[i].name << "'";
  if (columns.size() > kMaxListed)
    os << ", ... (" << columns.size() << " in all)";
  if (columns.empty())
    os << "(none)";
  return os.str();
}

}  // namespace

int64_t Column::missing() const {
  return static_cast<int64_t>(std::count_if(values.begin(), values.end(), [](double v) { return is_missing(v); }));
}

Table::Table(std::vector<Column> columns) : columns_(std::move(columns)) {
  for (size_t i = 1; i < columns_.size(); ++i) {
    LOOM_CHECK(columns_[i].rows() == columns_[0].rows(), "Table: column '", columns_[i].name, "' has ",
               columns_[i].rows(), " rows but column '", columns_[0].name, "' has ", columns_[0].rows(),
               "; every column must have the same number of rows");
  }
}

const Column& Table::column(int64_t i) const {
  if (i < 0 || i >= cols())
    LOOM_THROW(IndexError, "Table: column index ", i, " is out of range for a table with ", cols(), " columns");
  return columns_[static_cast<size_t>(i)];
}

const Column& Table::column(const std::string& name) const {
  int64_t i = index_of(name);
  LOOM_CHECK(i >= 0, "Table: no column named '", name, "'; the columns are ", list_names(columns_));
  return columns_[static_cast<size_t>(i)];
}

int64_t Table::index_of(const std::string& name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name)
      return static_cast<int64_t>(i);
  }
  return -1;
}

void Table::add_column(Column column) {
  if (!columns_.empty()) {
    LOOM_CHECK(column.rows() == rows(), "Table::add_column: column '", column.name, "' has ", column.rows(),
               " rows but the table has ", rows());
  }
  LOOM_CHECK(index_of(column.name) < 0, "Table::add_column: the table already has a column named '", column.name, "'");
  columns_.push_back(std::move(column));
}

Column Table::remove_column(const std::string& name) {
  int64_t i = index_of(name);
  LOOM_CHECK(i >= 0, "Table::remove_column: no column named '", name, "'; the columns are ", list_names(columns_));
  Column out = std::move(columns_[static_cast<size_t>(i)]);
  columns_.erase(columns_.begin() + i);
  return out;
}

Table Table::select_rows(const std::vector<int64_t>& rows) const {
  const int64_t n = this->rows();
  for (int64_t r : rows) {
    if (r < 0 || r >= n)
      LOOM_THROW(IndexError, "Table::select_rows: row ", r, " is out of range for a table with ", n, " rows");
  }
  std::vector<Column> out(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) {
    const Column& src = columns_[c];
    Column& dst = out[c];
    dst.name = src.name;
    dst.type = src.type;
    dst.categories = src.categories;
    dst.values.resize(rows.size());
    for (size_t i = 0; i < rows.size(); ++i)
      dst.values[i] = src.values[static_cast<size_t>(rows[i])];
  }
  return Table(std::move(out));
}

Tensor Table::to_tensor(DType dtype) const {
  LOOM_CHECK(dtype == DType::f32 || dtype == DType::f64, "Table::to_tensor: dtype must be f32 or f64, found ",
             dtype_name(dtype));
  const int64_t n = rows(), m = cols();
  Tensor out = Tensor::empty({n, m}, dtype);
  // Row-major output from column-major input: parallel over rows keeps each thread's
  // writes contiguous.
  auto fill = [&](auto* dst) {
    using T = std::remove_pointer_t<decltype(dst)>;
    runtime::parallel_for(0, n, 4096, [&](int64_t r0, int64_t r1) {
      for (int64_t c = 0; c < m; ++c) {
        const double* src = columns_[static_cast<size_t>(c)].values.data();
        for (int64_t r = r0; r < r1; ++r)
          dst[r * m + c] = static_cast<T>(src[r]);
      }
    });
  };
  if (dtype == DType::f32)
    fill(out.data<float>());
  else
    fill(out.data<double>());
  return out;
}

Table Table::from_tensor(const Tensor& matrix, const std::vector<std::string>& names) {
  LOOM_CHECK(matrix.defined() && matrix.dim() == 2, "Table::from_tensor: expected a 2-D [rows, cols] tensor, found ",
             matrix.defined() ? matrix.str() : std::string("an undefined tensor"));
  const int64_t n = matrix.size(0), m = matrix.size(1);
  LOOM_CHECK(names.empty() || static_cast<int64_t>(names.size()) == m, "Table::from_tensor: ", names.size(),
             " names given for a tensor with ", m, " columns");
  Tensor src = matrix.to(DType::f64).contiguous();
  const double* p = src.data<double>();
  std::vector<Column> columns(static_cast<size_t>(m));
  for (int64_t c = 0; c < m; ++c) {
    Column& col = columns[static_cast<size_t>(c)];
    // concat rather than "x" + to_string: GCC 12 warns falsely (-Wrestrict) on the latter.
    col.name = names.empty() ? loom::detail::concat("x", c) : names[static_cast<size_t>(c)];
    col.type = ColumnType::numeric;
    col.values.resize(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r)
      col.values[static_cast<size_t>(r)] = p[r * m + c];
  }
  return Table(std::move(columns));
}

}  // namespace loom::data
