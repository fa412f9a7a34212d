// Reading the CSV files that scikit-learn ships, and checking them against pandas.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "loom/data/tabular/csv.h"
#include "support/test_support.h"

namespace loom::data {
namespace {

const char* const kSklearnData = "/usr/lib/python3/dist-packages/sklearn/datasets/data/";

// The path of a bundled sklearn file, or "" (and a printed reason) when absent.
std::string sklearn_file(const std::string& name) {
  std::string path = std::string(kSklearnData) + name;
  if (!std::filesystem::exists(path)) {
    std::printf("skipping: %s not found (scikit-learn's data files are not installed)\n", path.c_str());
    return "";
  }
  return path;
}

double column_sum(const Column& c) { return std::accumulate(c.values.begin(), c.values.end(), 0.0); }

TEST(CsvSklearn, CountLineFilesReadWithSkipRows) {
  struct Case {
    const char* file;
    int64_t rows, cols;
    double first_value;
  };
  // The first line is "<rows>,<features>,<class names...>", not column names.
  for (const Case& c : {Case{"wine_data.csv", 178, 14, 14.23}, Case{"iris.csv", 150, 5, 5.1},
                        Case{"breast_cancer.csv", 569, 31, 17.99}}) {
    std::string path = sklearn_file(c.file);
    if (path.empty())
      GTEST_SKIP() << "scikit-learn data not installed";
    Table t = read_csv(path, {.has_header = false, .skip_rows = 1});
    EXPECT_EQ(t.rows(), c.rows) << c.file;
    EXPECT_EQ(t.cols(), c.cols) << c.file;
    EXPECT_EQ(t.column("c0").values[0], c.first_value) << c.file;
    for (const Column& col : t.columns()) {
      EXPECT_EQ(col.type, ColumnType::numeric) << c.file << " " << col.name;
      EXPECT_EQ(col.missing(), 0) << c.file << " " << col.name;
    }
    // The count line itself, read as data, states the shape.
    Table counts = read_csv(path, {.has_header = false, .max_rows = 1});
    EXPECT_EQ(counts.column("c0").values[0], c.rows) << c.file;
    EXPECT_EQ(counts.column("c1").values[0], c.cols - 1) << c.file;
  }
}

TEST(CsvSklearn, HeaderOnSecondLineAndSpaceSeparatedGzip) {
  std::string boston = sklearn_file("boston_house_prices.csv");
  std::string diabetes = sklearn_file("diabetes_data_raw.csv.gz");
  std::string linnerud = sklearn_file("linnerud_exercise.csv");
  std::string digits = sklearn_file("digits.csv.gz");
  if (boston.empty() || diabetes.empty() || linnerud.empty() || digits.empty())
    GTEST_SKIP() << "scikit-learn data not installed";
  Table b = read_csv(boston, {.skip_rows = 1});
  EXPECT_EQ(b.rows(), 506);
  EXPECT_EQ(b.column(0).name, "CRIM");
  EXPECT_EQ(b.column(13).name, "MEDV");
  EXPECT_EQ(b.column("ZN").values[0], 18);

  Table d = read_csv(diabetes, {.delimiter = ' ', .has_header = false});
  EXPECT_EQ(d.rows(), 442);
  EXPECT_EQ(d.cols(), 10);
  EXPECT_EQ(d.column("c2").values[0], 32.1);

  Table l = read_csv(linnerud, {.delimiter = ' '});
  EXPECT_EQ(l.rows(), 20);
  EXPECT_EQ(l.column(1).name, "Situps");
  EXPECT_EQ(l.column("Situps").values[0], 162);

  Table g = read_csv(digits, {.has_header = false});
  EXPECT_EQ(g.rows(), 1797);
  EXPECT_EQ(g.cols(), 65);
}

TEST(CsvSklearn, ColumnSumsMatchPandas) {
  std::string path = sklearn_file("breast_cancer.csv");
  if (path.empty())
    GTEST_SKIP() << "scikit-learn data not installed";
  const std::string script = "import pandas as pd; d = pd.read_csv('" + path +
                             "', header=None, skiprows=1); print(' '.join(repr(float(s)) for s in d.sum(axis=0)))";
  auto r = loom::testing::run_command("/usr/bin/python3 -c \"" + script + "\"");
  if (r.exit_code != 0) {
    std::printf("skipping: pandas is not available to /usr/bin/python3: %s\n", r.output.c_str());
    GTEST_SKIP() << "pandas not available";
  }
  std::istringstream in(r.output);
  Table t = read_csv(path, {.has_header = false, .skip_rows = 1});
  for (const Column& c : t.columns()) {
    double expected = 0;
    ASSERT_TRUE(in >> expected) << r.output;
    EXPECT_NEAR(column_sum(c), expected, 1e-9 * std::max(1.0, std::fabs(expected))) << c.name;
  }
}

}  // namespace
}  // namespace loom::data
