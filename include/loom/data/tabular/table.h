#pragma once
// Table: column-oriented tabular data, as read from CSV and consumed by the
// preprocessing steps. Numeric columns hold doubles; categorical columns hold
// category codes (indices into `categories`) as doubles. A missing value is NaN
// in both, so every step sees one representation.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "loom/core/tensor.h"

namespace loom::data {

enum class ColumnType : uint8_t { numeric, categorical };

struct Column {
  std::string name;
  ColumnType type = ColumnType::numeric;
  std::vector<double> values;           // one per row; NaN = missing
  std::vector<std::string> categories;  // categorical only: code -> label

  int64_t rows() const { return static_cast<int64_t>(values.size()); }
  int64_t missing() const;
  static bool is_missing(double v) { return std::isnan(v); }
};

class Table {
 public:
  Table() = default;
  explicit Table(std::vector<Column> columns);  // all columns must have the same length

  int64_t rows() const { return columns_.empty() ? 0 : columns_[0].rows(); }
  int64_t cols() const { return static_cast<int64_t>(columns_.size()); }
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<Column>& columns() { return columns_; }
  const Column& column(int64_t i) const;
  const Column& column(const std::string& name) const;  // ValueError naming the known columns
  int64_t index_of(const std::string& name) const;      // -1 when absent
  void add_column(Column column);                       // length must match
  Column remove_column(const std::string& name);
  Table select_rows(const std::vector<int64_t>& rows) const;

  // Numeric matrix [rows, cols] of every column (codes for categorical), f32 or f64.
  Tensor to_tensor(DType dtype = DType::f32) const;
  // A numeric table from a [rows, cols] tensor, columns named names[i] (or "x<i>").
  static Table from_tensor(const Tensor& matrix, const std::vector<std::string>& names = {});

 private:
  std::vector<Column> columns_;
};

}  // namespace loom::data
