#pragma once
// "schema_check": remembers the columns seen at fit (names, types and, for
// categorical ones, the labels used) and checks every later table against them:
// a missing column, a changed type, a label not seen at fit or (unless
// allow_extra) a column not seen at fit is a ValueError naming the column. The
// target may be present or absent. Put it first in a pipeline.
#include <string>
#include <vector>

#include "loom/data/tabular/step_state.h"

namespace loom::data {

struct SchemaCheckOptions {
  std::vector<std::string> columns;  // empty: every column except the target
  bool allow_extra = false;
  bool check_categories = true;
};
struct SchemaCheckState {
  std::vector<std::string> columns;
  std::vector<ColumnType> types;
  std::vector<std::vector<std::string>> categories;  // sorted labels used at fit; empty for numeric
};
class SchemaCheck final : public StepWith<SchemaCheckOptions, SchemaCheckState> {
 public:
  explicit SchemaCheck(Options options = {});
  std::string kind() const override { return "schema_check"; }
  void fit(const Table& table) override;
  Table transform(const Table& table) const override;
  std::string to_json() const override;
};

}  // namespace loom::data
