#include "loom/data/tabular/table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "loom/core/error.h"

namespace loom::data {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Column numeric(const std::string& name, std::vector<double> values) {
  return Column{name, ColumnType::numeric, std::move(values), {}};
}

Column categorical(const std::string& name, std::vector<double> codes, std::vector<std::string> categories) {
  return Column{name, ColumnType::categorical, std::move(codes), std::move(categories)};
}

TEST(Table, ConstructorRejectsColumnsOfDifferentLengths) {
  try {
    Table t({numeric("a", {1, 2, 3}), numeric("b", {1, 2})});
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(e.message().find("'b' has 2 rows"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'a' has 3"), std::string::npos) << e.message();
  }
}

TEST(Table, ColumnByNameListsKnownColumnsWhenAbsent) {
  Table t({numeric("age", {1}), numeric("height", {2})});
  EXPECT_EQ(t.column("height").values[0], 2);
  EXPECT_EQ(t.index_of("age"), 0);
  EXPECT_EQ(t.index_of("weight"), -1);
  try {
    t.column("weight");
    FAIL() << "expected a ValueError";
  } catch (const ValueError& e) {
    EXPECT_NE(e.message().find("'weight'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("'age', 'height'"), std::string::npos) << e.message();
  }
  EXPECT_THROW(t.column(2), IndexError);
}

TEST(Table, MissingCountsNaN) {
  Column c = numeric("x", {1, kNaN, 3, kNaN});
  EXPECT_EQ(c.missing(), 2);
  EXPECT_EQ(c.rows(), 4);
  EXPECT_TRUE(Column::is_missing(kNaN));
  EXPECT_FALSE(Column::is_missing(0.0));
}

TEST(Table, AddAndRemoveColumns) {
  Table t({numeric("a", {1, 2})});
  t.add_column(numeric("b", {3, 4}));
  EXPECT_EQ(t.cols(), 2);
  EXPECT_THROW(t.add_column(numeric("c", {1})), ValueError);
  EXPECT_THROW(t.add_column(numeric("a", {1, 2})), ValueError);
  Column b = t.remove_column("b");
  EXPECT_EQ(b.values, (std::vector<double>{3, 4}));
  EXPECT_EQ(t.cols(), 1);
  EXPECT_THROW(t.remove_column("b"), ValueError);
}

TEST(Table, SelectRowsKeepsCategoriesAndOrder) {
  Table t({numeric("x", {10, 20, 30}), categorical("c", {0, 1, kNaN}, {"a", "b"})});
  Table s = t.select_rows({2, 0, 0});
  EXPECT_EQ(s.rows(), 3);
  EXPECT_EQ(s.column("x").values, (std::vector<double>{30, 10, 10}));
  EXPECT_TRUE(std::isnan(s.column("c").values[0]));
  EXPECT_EQ(s.column("c").values[1], 0);
  EXPECT_EQ(s.column("c").categories, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.column("c").type, ColumnType::categorical);
  EXPECT_THROW(t.select_rows({3}), IndexError);
  EXPECT_THROW(t.select_rows({-1}), IndexError);
}

TEST(Table, ToTensorIsRowMajorAndFromTensorInverts) {
  Table t({numeric("a", {1, 2, 3}), categorical("b", {1, 0, 1}, {"n", "y"})});
  Tensor m = t.to_tensor();
  EXPECT_EQ(m.shape(), (Shape{3, 2}));
  EXPECT_EQ(m.dtype(), DType::f32);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{1, 1, 2, 0, 3, 1}));
  Tensor m64 = t.to_tensor(DType::f64);
  EXPECT_EQ(m64.dtype(), DType::f64);
  EXPECT_THROW(t.to_tensor(DType::i64), ValueError);

  Table back = Table::from_tensor(m64, {"p", "q"});
  EXPECT_EQ(back.column("p").values, (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(back.column("q").values, (std::vector<double>{1, 0, 1}));
  Table unnamed = Table::from_tensor(m);
  EXPECT_EQ(unnamed.column(1).name, "x1");
  EXPECT_THROW(Table::from_tensor(m, {"only_one"}), ValueError);
  EXPECT_THROW(Table::from_tensor(Tensor::zeros({4})), ValueError);
}

TEST(Table, EmptyTable) {
  Table t;
  EXPECT_EQ(t.rows(), 0);
  EXPECT_EQ(t.cols(), 0);
  EXPECT_EQ(t.to_tensor().shape(), (Shape{0, 0}));
}

}  // namespace
}  // namespace loom::data
