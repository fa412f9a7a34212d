// The preprocessing steps against scikit-learn on the same data: the test writes
// a fixed random dataset (with missing values) as raw f64 files, runs
// tests/data/sklearn_reference.py on it with /usr/bin/python3, and compares.
//
// Tolerance: |loom - sklearn| <= 1e-9 * (|sklearn| + max(1, max |sklearn| of that
// column)), i.e. 1e-9 relative with the column's scale (at least 1) as the floor near
// zero: a constant column standardises to rounding noise (~1e-15) in both. Discrete
// outputs (bins, one-hot, selected columns) must match exactly. PCA components
// are compared up to sign: scikit-learn 1.2 fixes signs by the projected data,
// loom as scikit-learn >= 1.5 does (pca.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "loom/data/tabular/steps.h"
#include "test_support.h"

namespace loom::data {
namespace {

constexpr const char* kPython = "/usr/bin/python3";
constexpr int64_t kRows = 400, kCols = 6;

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;  // row-major
  double at(int64_t r, int64_t c) const { return v[static_cast<size_t>(r * cols + c)]; }
};

struct Dataset {
  Matrix x_nan, x_full;
  std::vector<double> y;
  std::vector<std::vector<std::string>> cat;  // [row][column], "" = missing
};

Dataset make_dataset() {
  std::mt19937_64 rng(20240611);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  Dataset d;
  d.x_full = {kRows, kCols, std::vector<double>(static_cast<size_t>(kRows * kCols))};
  for (int64_t r = 0; r < kRows; ++r) {
    const double a = 2 * normal(rng) + 5;
    const double row[kCols] = {
        a,
        std::exp(0.8 * normal(rng)),                // skewed, positive
        6 * uniform(rng) - 3,                       // uniform
        std::floor(-1.5 * std::log(uniform(rng))),  // small integers, many ties
        0.8 * a + normal(rng),                      // correlated with column 0
        100 + 0.01 * normal(rng),                   // large mean, tiny spread
    };
    for (int64_t c = 0; c < kCols; ++c)
      d.x_full.v[static_cast<size_t>(r * kCols + c)] = row[c];
    const double label = (a + row[2] > 5 ? 1 : 0) + (row[2] > 1 ? 1 : 0) + (uniform(rng) < 0.1 ? 1 : 0);
    d.y.push_back(std::min(label, 2.0));
    const char* colors[] = {"red", "green", "blue", "amber"};
    const char* letters[] = {"z", "x", "y"};
    d.cat.push_back({colors[static_cast<int>(uniform(rng) * 4)],
                     uniform(rng) < 0.07 ? "" : letters[static_cast<int>(uniform(rng) * 3)]});
  }
  d.x_nan = d.x_full;
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t c : {0, 1, 3}) {
      if (uniform(rng) < 0.06)
        d.x_nan.v[static_cast<size_t>(r * kCols + c)] = NAN;
    }
  }
  return d;
}

Table numeric_table(const Matrix& m) {
  std::vector<Column> cols;
  for (int64_t c = 0; c < m.cols; ++c) {
    Column col;
    col.name = "x" + std::to_string(c);
    for (int64_t r = 0; r < m.rows; ++r)
      col.values.push_back(m.at(r, c));
    cols.push_back(std::move(col));
  }
  return Table(std::move(cols));
}

// Categorical columns with codes in order of first appearance (not sorted).
Table categorical_table(const std::vector<std::vector<std::string>>& cat) {
  std::vector<Column> cols;
  for (size_t c = 0; c < cat[0].size(); ++c) {
    Column col;
    col.name = "c" + std::to_string(c);
    col.type = ColumnType::categorical;
    for (const auto& row : cat) {
      const std::string& label = row[c];
      if (label.empty()) {
        col.values.push_back(NAN);
        continue;
      }
      auto it = std::find(col.categories.begin(), col.categories.end(), label);
      if (it == col.categories.end()) {
        col.categories.push_back(label);
        it = col.categories.end() - 1;
      }
      col.values.push_back(static_cast<double>(it - col.categories.begin()));
    }
    cols.push_back(std::move(col));
  }
  return Table(std::move(cols));
}

void write_doubles(const std::string& path, const std::vector<double>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
}

class PreprocessSklearn : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (testing::run_command(std::string(kPython) + " -c 'import sklearn'").exit_code != 0) {
      skip_reason_ = std::string(kPython) + " cannot import sklearn (install python3-sklearn)";
      return;
    }
    dir_ = new testing::TempDir();
    data_ = new Dataset(make_dataset());
    write_file(dir_->file("meta.txt"), std::to_string(kRows) + " " + std::to_string(kCols));
    write_doubles(dir_->file("x_nan.bin"), data_->x_nan.v);
    write_doubles(dir_->file("x_full.bin"), data_->x_full.v);
    write_doubles(dir_->file("y.bin"), data_->y);
    std::string cat;
    for (const auto& row : data_->cat)
      cat += row[0] + "\t" + row[1] + "\n";
    write_file(dir_->file("cat.txt"), cat);
    const std::string script = std::string(LOOM_SOURCE_DIR) + "/tests/data/sklearn_reference.py";
    auto r = testing::run_command(std::string(kPython) + " " + script + " " + dir_->path().string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    std::ifstream manifest(dir_->file("manifest.txt"));
    std::string name;
    int64_t rows, cols;
    while (manifest >> name >> rows >> cols) {
      Matrix m{rows, cols, std::vector<double>(static_cast<size_t>(rows * cols))};
      std::ifstream f(dir_->file(name + ".bin"), std::ios::binary);
      f.read(reinterpret_cast<char*>(m.v.data()), static_cast<std::streamsize>(m.v.size() * sizeof(double)));
      ASSERT_TRUE(f) << "short file " << name;
      (*results_)[name] = std::move(m);
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete data_;
    dir_ = nullptr;
    data_ = nullptr;
  }
  void SetUp() override {
    if (!skip_reason_.empty())
      GTEST_SKIP() << skip_reason_;
  }
  static void write_file(const std::string& path, const std::string& text) { testing::write_file(path, text); }

  static const Matrix& ref(const std::string& name) {
    auto it = results_->find(name);
    if (it == results_->end())
      throw std::runtime_error("no reference result " + name);
    return it->second;
  }
  static std::vector<std::string> names(const std::string& name) {
    std::ifstream f(dir_->file(name + ".txt"));
    std::vector<std::string> out;
    for (std::string line; std::getline(f, line);)
      out.push_back(line);
    return out;
  }

  // Columns of `t` (all of them, in order) against the reference matrix.
  static void expect_matches(const std::string& name, const Table& t, double rtol = 1e-9) {
    const Matrix& m = ref(name);
    ASSERT_EQ(t.cols(), m.cols) << name;
    ASSERT_EQ(t.rows(), m.rows) << name;
    double worst = 0;  // max |loom - sklearn| / (|sklearn| + scale), reported below
    for (int64_t c = 0; c < m.cols; ++c) {
      double scale = 1;
      for (int64_t r = 0; r < m.rows; ++r)
        scale = std::isnan(m.at(r, c)) ? scale : std::max(scale, std::abs(m.at(r, c)));
      int failures = 0;
      for (int64_t r = 0; r < m.rows && failures < 5; ++r) {
        const double want = m.at(r, c), got = t.column(c).values[static_cast<size_t>(r)];
        if (std::isnan(want)) {
          EXPECT_TRUE(std::isnan(got)) << name << " column " << c << " row " << r;
          failures += !std::isnan(got);
          continue;
        }
        worst = std::max(worst, std::abs(got - want) / (std::abs(want) + scale));
        const bool ok = std::abs(got - want) <= rtol * (std::abs(want) + scale);
        EXPECT_TRUE(ok) << name << " column " << t.column(c).name << " row " << r << ": loom " << got << ", sklearn "
                        << want << " (diff " << got - want << ")";
        failures += !ok;
      }
    }
    std::printf("  %-22s largest relative difference from sklearn: %.2e\n", name.c_str(), worst);
  }

  static Table x_nan() { return numeric_table(data_->x_nan); }
  static Table x_full() { return numeric_table(data_->x_full); }

  static inline testing::TempDir* dir_ = nullptr;
  static inline Dataset* data_ = nullptr;
  static inline std::map<std::string, Matrix>* results_ = new std::map<std::string, Matrix>();
  static inline std::string skip_reason_;
};

TEST_F(PreprocessSklearn, StandardScaler) { expect_matches("standard", StandardScale().fit_transform(x_nan())); }

TEST_F(PreprocessSklearn, MinMaxScaler) {
  expect_matches("minmax", MinMaxScale().fit_transform(x_nan()));
  expect_matches("minmax_range", MinMaxScale({.range_min = -2, .range_max = 3}).fit_transform(x_nan()));
}

TEST_F(PreprocessSklearn, RobustScaler) { expect_matches("robust", RobustScale().fit_transform(x_nan())); }

TEST_F(PreprocessSklearn, SimpleImputer) {
  expect_matches("impute_mean", Impute({.strategy = ImputeStrategy::mean}).fit_transform(x_nan()));
  expect_matches("impute_median", Impute({.strategy = ImputeStrategy::median}).fit_transform(x_nan()));
  expect_matches("impute_most_frequent", Impute({.strategy = ImputeStrategy::most_frequent}).fit_transform(x_nan()));
}

TEST_F(PreprocessSklearn, PcaUpToSign) {
  Pca pca({.n_components = 4});
  Table out = pca.fit_transform(x_full());
  const Matrix& comp = ref("pca_components");
  ASSERT_EQ(pca.n_components(), comp.rows);
  const auto& st = pca.state();
  // Per component: the sign that aligns loom's with sklearn's, then everything up to that sign.
  for (int64_t j = 0; j < comp.rows; ++j) {
    double dot = 0;
    for (int64_t c = 0; c < comp.cols; ++c)
      dot += comp.at(j, c) * st.components[static_cast<size_t>(j * comp.cols + c)];
    const double sign = dot < 0 ? -1.0 : 1.0;
    for (int64_t c = 0; c < comp.cols; ++c) {
      EXPECT_NEAR(sign * st.components[static_cast<size_t>(j * comp.cols + c)], comp.at(j, c), 1e-9)
          << "component " << j << " entry " << c;
    }
    for (auto& v : out.columns()[static_cast<size_t>(j)].values)
      v *= sign;
  }
  expect_matches("pca_transform", out);
  const Matrix& ratio = ref("pca_ratio");
  const Matrix& variance = ref("pca_variance");
  for (int64_t j = 0; j < ratio.rows; ++j) {
    EXPECT_NEAR(st.explained_variance_ratio[static_cast<size_t>(j)], ratio.at(j, 0), 1e-9 * ratio.at(j, 0));
    EXPECT_NEAR(st.explained_variance[static_cast<size_t>(j)], variance.at(j, 0), 1e-9 * variance.at(j, 0));
  }
}

TEST_F(PreprocessSklearn, SelectKBestFClassif) {
  Table t = x_full();
  Column y;
  y.name = "y";
  y.values = data_->y;
  t.add_column(std::move(y));
  SelectKBest select({.k = 3});
  select.set_target("y");
  Table out = select.fit_transform(t);
  const Matrix& scores = ref("kbest_scores");
  const Matrix& support = ref("kbest_support");
  std::vector<std::string> expected_columns;
  for (int64_t c = 0; c < kCols; ++c) {
    EXPECT_NEAR(select.state().scores[static_cast<size_t>(c)], scores.at(c, 0), 1e-9 * scores.at(c, 0)) << c;
    if (support.at(c, 0) != 0)
      expected_columns.push_back("x" + std::to_string(c));
  }
  expected_columns.push_back("y");
  std::vector<std::string> got;
  for (const Column& c : out.columns())
    got.push_back(c.name);
  EXPECT_EQ(got, expected_columns);
}

TEST_F(PreprocessSklearn, KBinsDiscretizer) {
  expect_matches("kbins_uniform",
                 Discretize({.n_bins = 5, .strategy = DiscretizeStrategy::uniform}).fit_transform(x_full()), 0);
  expect_matches("kbins_quantile",
                 Discretize({.n_bins = 5, .strategy = DiscretizeStrategy::quantile}).fit_transform(x_full()), 0);
}

TEST_F(PreprocessSklearn, OneHotEncoder) {
  Table out = OneHot().fit_transform(categorical_table(data_->cat));
  std::vector<std::string> got;
  for (const Column& c : out.columns())
    got.push_back(c.name);
  EXPECT_EQ(got, names("onehot_names"));
  expect_matches("onehot", out, 0);
}

TEST_F(PreprocessSklearn, PolynomialFeatures) {
  Table in = x_full();
  for (int i = 0; i < 2; ++i)
    in.columns().pop_back();  // x0..x3
  Table out = Polynomial().fit_transform(in);
  std::vector<std::string> got;
  for (const Column& c : out.columns())
    got.push_back(c.name);
  EXPECT_EQ(got, names("poly_names"));
  expect_matches("poly", out);
}

// Lambda is searched with scipy's Brent steps (tolerance 1.48e-8), but numpy evaluates
// pow and log1p with its own vectorised code (AVX-512 SVML where the CPU has it), whose
// last bits differ from glibc's; near the optimum those bits steer Brent's last steps,
// so lambdas agree to about the search tolerance, not to rounding: 1e-7 here.
TEST_F(PreprocessSklearn, PowerTransformerYeoJohnson) {
  Power power;
  Table out = power.fit_transform(x_nan());
  const Matrix& lambdas = ref("power_lambdas");
  for (int64_t c = 0; c < kCols; ++c) {
    EXPECT_NEAR(power.state().lambdas[static_cast<size_t>(c)], lambdas.at(c, 0),
                1e-7 * std::max(1.0, std::abs(lambdas.at(c, 0))))
        << "lambda of column " << c;
  }
  expect_matches("power", out, 1e-7);
}

TEST_F(PreprocessSklearn, PowerTransformerBoxCox) {
  Power power({.columns = {"x1"}, .method = PowerMethod::box_cox});
  Table out = power.fit_transform(x_nan());
  EXPECT_NEAR(power.state().lambdas[0], ref("boxcox_lambdas").at(0, 0),
              1e-7 * std::max(1.0, std::abs(ref("boxcox_lambdas").at(0, 0))));
  Table x1({out.column("x1")});
  expect_matches("boxcox", x1, 1e-7);
}

}  // namespace
}  // namespace loom::data
