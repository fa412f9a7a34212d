#include "loom/data/tabular/describe.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "loom/core/error.h"
#include "loom/data/tabular/csv.h"

namespace loom::data {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(TableStats, NumericAgainstHandComputedValues) {
  // x = 2, 4, 4, 4, 5, 5, 7, 9 and one missing: mean 5, sum of squared deviations
  // 32, sample variance 32 / 7.
  Table t({Column{"x", ColumnType::numeric, {2, 4, kNaN, 4, 4, 5, 5, 7, 9}, {}}});
  std::vector<ColumnStats> s = describe(t);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].name, "x");
  EXPECT_EQ(s[0].type, ColumnType::numeric);
  EXPECT_EQ(s[0].count, 8);
  EXPECT_EQ(s[0].missing, 1);
  EXPECT_DOUBLE_EQ(s[0].mean, 5.0);
  EXPECT_DOUBLE_EQ(s[0].std, std::sqrt(32.0 / 7.0));
  EXPECT_EQ(s[0].min, 2);
  EXPECT_EQ(s[0].max, 9);
  EXPECT_EQ(s[0].unique, 0);
  EXPECT_EQ(s[0].top, "");
}

TEST(TableStats, EdgeCasesGiveNaN) {
  Table t({Column{"none", ColumnType::numeric, {kNaN, kNaN}, {}}, Column{"one", ColumnType::numeric, {3, kNaN}, {}}});
  std::vector<ColumnStats> s = describe(t);
  EXPECT_EQ(s[0].count, 0);
  EXPECT_TRUE(std::isnan(s[0].mean));
  EXPECT_TRUE(std::isnan(s[0].min));
  EXPECT_EQ(s[1].count, 1);
  EXPECT_EQ(s[1].mean, 3);
  EXPECT_TRUE(std::isnan(s[1].std));  // a sample of one has no spread estimate
}

TEST(TableStats, CategoricalCountsUniqueAndTop) {
  // b and c tie at two each; the tie goes to "b", which sorts first. "d" never occurs.
  Table t({Column{"c", ColumnType::categorical, {1, 2, 0, 1, 2, kNaN}, {"a", "b", "c", "d"}}});
  ColumnStats s = describe(t)[0];
  EXPECT_EQ(s.type, ColumnType::categorical);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.missing, 1);
  EXPECT_EQ(s.unique, 3);
  EXPECT_EQ(s.top, "b");
  EXPECT_EQ(s.top_count, 2);
  EXPECT_TRUE(std::isnan(s.mean));
}

TEST(TableStats, BadCategoryCodeIsAValueError) {
  Table t({Column{"c", ColumnType::categorical, {0, 3}, {"a", "b"}}});
  EXPECT_THROW(describe(t), ValueError);
}

TEST(TableInspect, ReportShowsShapeTypesMissingAndCategories) {
  Table t = parse_csv("age,color,score\n30,red,1.5\n40,blue,\n50,red,2.5\n,green,3.5\n", {}, "people.csv");
  std::string report = format_inspect_report(t, "people.csv");
  EXPECT_NE(report.find("people.csv: 4 rows x 3 columns (2 numeric, 1 categorical)"), std::string::npos) << report;
  EXPECT_NE(report.find("age"), std::string::npos) << report;
  EXPECT_NE(report.find("1 (25.0%)"), std::string::npos) << report;
  EXPECT_NE(report.find("mean"), std::string::npos) << report;
  EXPECT_NE(report.find("40"), std::string::npos) << report;  // mean of age
  EXPECT_NE(report.find("3 categories, top 'red' (2 rows): blue, green, red"), std::string::npos) << report;
  std::printf("%s", report.c_str());
}

TEST(TableInspect, EmptyTable) {
  EXPECT_EQ(format_inspect_report(Table(), "x.csv"), "x.csv: 0 rows x 0 columns (0 numeric, 0 categorical)\n");
}

}  // namespace
}  // namespace loom::data
