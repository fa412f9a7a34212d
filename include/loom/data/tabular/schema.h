#pragma once
// The columns a model expects: names, types, and optionally the allowed categories,
// value ranges and whether values may be missing. Inferred from the training table,
// saved beside the model as JSON, and checked against the data given at inference.
//
//   Schema schema = loom::data::infer_schema(train);
//   save_text("model.schema.json", schema.to_json());
//   ...
//   loom::data::validate(new_data, Schema::from_json(text), "new.csv");  // ValueError naming the problems
#include <optional>
#include <string>
#include <vector>

#include "loom/data/tabular/table.h"

namespace loom::data {

struct ColumnSchema {
  std::string name;
  ColumnType type = ColumnType::numeric;
  bool allow_missing = true;
  // Numeric columns: the allowed range, inclusive; unset = unbounded.
  std::optional<double> min, max;
  // Categorical columns: the allowed labels; empty = any label.
  std::vector<std::string> categories;
};

struct Schema {
  std::vector<ColumnSchema> columns;

  const ColumnSchema* find(const std::string& name) const;  // nullptr when absent
  // {"format": "loom-schema", "version": 1, "columns": [{"name", "type", "allow_missing",
  //  "min"?, "max"?, "categories"?}, ...]}
  std::string to_json() const;
  // ValueError naming what is wrong (malformed JSON, a missing key, an unknown type).
  static Schema from_json(const std::string& json_text);
};

// Every column's name and type, and the categories of categorical columns. With
// `strict`, also the observed min/max of numeric columns as their allowed range, and
// allow_missing = false for columns without missing values.
Schema infer_schema(const Table& table, bool strict = false);

// Checks `table` against `schema`: every schema column present, of the same type,
// with only allowed categories, values inside the allowed range, and no missing
// values where none are allowed. Columns the schema does not mention are ignored
// (a target column, say). Throws one ValueError that starts with `source` and names
// each problem (up to 10) with its column and the first offending row (counted
// from 1, not including the header).
void validate(const Table& table, const Schema& schema, const std::string& source);

}  // namespace loom::data
