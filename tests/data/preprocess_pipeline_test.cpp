// Pipeline: specs, fit/transform with a target, save/load round trips, errors
// naming the file, and results independent of the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "loom/core/error.h"
#include "loom/data/tabular/pipeline.h"
#include "loom/data/tabular/steps.h"
#include "loom/runtime/parallel.h"
#include "test_support.h"

namespace loom::data {
namespace {

constexpr const char* kSpec = R"({"target": "label", "steps": [
  {"kind": "schema_check"},
  {"kind": "impute", "strategy": "median"},
  {"kind": "impute", "columns": ["color"], "strategy": "most_frequent"},
  {"kind": "outliers", "method": "zscore", "threshold": 4},
  {"kind": "power", "columns": ["skewed"]},
  {"kind": "standard_scale"},
  {"kind": "one_hot", "handle_unknown": "ignore"},
  {"kind": "polynomial", "columns": ["a", "b"]},
  {"kind": "select_k_best", "k": 6},
  {"kind": "pca", "n_components": 4}
]})";

// A mixed table: numeric columns with missing values, a categorical one, a class label.
Table make_table(int64_t rows, uint64_t seed, bool with_label = true) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  Column a{"a"}, b{"b"}, skewed{"skewed"}, color{"color"}, label{"label"};
  color.type = ColumnType::categorical;
  color.categories = {"red", "green", "blue"};
  for (int64_t r = 0; r < rows; ++r) {
    const double x = normal(rng), z = normal(rng);
    a.values.push_back(uniform(rng) < 0.05 ? NAN : x);
    b.values.push_back(2 * z + 0.5 * x);
    skewed.values.push_back(uniform(rng) < 0.05 ? NAN : std::exp(normal(rng)));
    color.values.push_back(uniform(rng) < 0.05 ? NAN : std::floor(uniform(rng) * 3));
    label.values.push_back((x + z > 0 ? 1 : 0) + (x > 1 ? 1 : 0));
  }
  std::vector<Column> cols = {a, b, skewed, color};
  if (with_label)
    cols.push_back(label);
  return Table(std::move(cols));
}

std::vector<std::string> names(const Table& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns())
    out.push_back(c.name);
  return out;
}

void expect_same_bits(const Table& x, const Table& y) {
  ASSERT_EQ(names(x), names(y));
  for (int64_t i = 0; i < x.cols(); ++i) {
    const auto& u = x.column(i).values;
    const auto& v = y.column(i).values;
    ASSERT_EQ(u.size(), v.size());
    EXPECT_EQ(0, std::memcmp(u.data(), v.data(), u.size() * sizeof(double))) << x.column(i).name;
  }
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.message();
  }
  return "(no error)";
}

TEST(PreprocessPipeline, FitTransformKeepsTargetLastAndInferenceMatches) {
  Pipeline p = Pipeline::from_spec(kSpec);
  EXPECT_EQ(p.size(), 10);
  Table train = make_table(500, 1);
  Table out = p.fit_transform(train);
  EXPECT_EQ(p.target(), "label");
  EXPECT_EQ(p.feature_names(), (std::vector<std::string>{"pca0", "pca1", "pca2", "pca3"}));
  EXPECT_EQ(names(out), (std::vector<std::string>{"pca0", "pca1", "pca2", "pca3", "label"}));
  EXPECT_EQ(out.rows(), train.rows() - 0);  // threshold 4: nothing this far out
  // Inference: no label column, same features, same values for the same rows.
  Table unlabeled = make_table(500, 1, false);
  Table inferred = p.transform(unlabeled);
  EXPECT_EQ(names(inferred), p.feature_names());
  for (int64_t c = 0; c < inferred.cols(); ++c)
    EXPECT_EQ(inferred.column(c).values, out.column(c).values);
}

TEST(PreprocessPipeline, SaveLoadRoundTripTransformsIdentically) {
  testing::TempDir dir;
  Pipeline p = Pipeline::from_spec(kSpec);
  p.fit(make_table(400, 2));
  const std::string path = dir.file("pipeline.json");
  p.save(path);
  Pipeline q = Pipeline::load(path);
  EXPECT_TRUE(q.fitted());
  EXPECT_EQ(q.target(), "label");
  EXPECT_EQ(q.feature_names(), p.feature_names());
  EXPECT_EQ(q.to_json(), p.to_json());
  Table fresh = make_table(300, 3, false);
  expect_same_bits(p.transform(fresh), q.transform(fresh));
  // No temporary is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path()))
    ++files;
  EXPECT_EQ(files, 1);
}

TEST(PreprocessPipeline, SpecFromFile) {
  testing::TempDir dir;
  testing::write_file(dir.file("spec.json"), kSpec);
  Pipeline p = Pipeline::from_spec(dir.file("spec.json"));
  EXPECT_EQ(p.size(), 10);
  EXPECT_FALSE(p.fitted());
}

TEST(PreprocessPipeline, SameBitsWithOneAndTwoThreads) {
  const int before = runtime::num_threads();
  // Enough rows for several row blocks and GEMM blocks.
  Table train = make_table(40000, 4);
  auto run = [&](int threads) {
    runtime::set_num_threads(threads);
    Pipeline p = Pipeline::from_spec(kSpec);
    Table out = p.fit_transform(train);
    return std::make_pair(p.to_json(), out);
  };
  auto [json1, out1] = run(1);
  auto [json2, out2] = run(2);
  runtime::set_num_threads(before);
  EXPECT_EQ(json1, json2);
  expect_same_bits(out1, out2);
}

TEST(PreprocessPipeline, SpecErrorsNameTheStep) {
  EXPECT_NE(error_of([] {
              Pipeline::from_spec(R"({"steps": [{"kind": "standard_scale"}, {"kind": "nope"}]})");
            }).find("step 1 (\"nope\"): unknown step kind"),
            std::string::npos);
  EXPECT_NE(
      error_of([] { Pipeline::from_spec(R"({"steps": [{"kind": "pca", "n_components": -1}]})"); }).find("n_components"),
      std::string::npos);
  EXPECT_NE(error_of([] { Pipeline::from_spec(R"({"stepz": []})"); }).find("unknown key \"stepz\""), std::string::npos);
  EXPECT_NE(error_of([] { Pipeline::from_spec(R"({"steps": {"kind": "pca"}})"); }).find("\"steps\""),
            std::string::npos);
  EXPECT_NE(error_of([] { Pipeline::from_spec("/nonexistent/spec.json"); }).find("/nonexistent/spec.json"),
            std::string::npos);
  EXPECT_THROW(Pipeline::from_spec("/nonexistent/spec.json"), IOError);
  Pipeline p = Pipeline::from_spec(R"({"steps": [{"kind": "standard_scale"}]})");
  EXPECT_NE(error_of([&] { p.transform(make_table(5, 1)); }).find("not fitted"), std::string::npos);
  EXPECT_NE(error_of([&] { p.fit(make_table(5, 1), "nope"); }).find("'nope'"), std::string::npos);
}

TEST(PreprocessPipeline, LoadErrorsNameTheFile) {
  testing::TempDir dir;
  Pipeline p = Pipeline::from_spec(R"({"steps": [{"kind": "standard_scale"}]})");
  p.fit(make_table(50, 5), "label");
  const std::string good = p.to_json();
  auto load_error = [&](const std::string& name, const std::string& text) {
    testing::write_file(dir.file(name), text);
    return error_of([&] { Pipeline::load(dir.file(name)); });
  };
  const std::string malformed = load_error("malformed.json", good.substr(0, good.size() / 2));
  EXPECT_NE(malformed.find("malformed.json"), std::string::npos) << malformed;
  EXPECT_NE(malformed.find("not valid JSON"), std::string::npos) << malformed;

  std::string unknown = good;
  unknown.replace(unknown.find("standard_scale"), 14, "standard_scalp");
  const std::string unknown_error = load_error("unknown.json", unknown);
  EXPECT_NE(unknown_error.find("unknown.json"), std::string::npos) << unknown_error;
  EXPECT_NE(unknown_error.find("unknown step kind \"standard_scalp\""), std::string::npos) << unknown_error;

  const std::string unfitted = R"({"format": "loom.pipeline", "version": 1, "target": "", "features": [],
                                   "steps": [{"kind": "standard_scale"}]})";
  const std::string missing = load_error("unfitted.json", unfitted);
  EXPECT_NE(missing.find("unfitted.json"), std::string::npos) << missing;
  EXPECT_NE(missing.find("no \"state\""), std::string::npos) << missing;

  std::string lacking = good;
  lacking.replace(lacking.find("\"scale\""), 7, "\"scalx\"");
  const std::string lacking_error = load_error("lacking.json", lacking);
  EXPECT_NE(lacking_error.find("lacks \"scale\""), std::string::npos) << lacking_error;

  const std::string spec_error = load_error("spec.json", R"({"steps": []})");
  EXPECT_NE(spec_error.find("not a saved loom pipeline"), std::string::npos) << spec_error;
  EXPECT_THROW(Pipeline::load(dir.file("absent.json")), IOError);
}

TEST(PreprocessPipeline, ExtraInputColumnIsAnError) {
  Pipeline p = Pipeline::from_spec(R"({"steps": [{"kind": "standard_scale", "columns": ["a"]}]})");
  p.fit(make_table(50, 6), "label");
  Table extra = make_table(10, 7);
  extra.add_column(Column{"id", ColumnType::numeric, std::vector<double>(10, 1.0), {}});
  const std::string e = error_of([&] { p.transform(extra); });
  EXPECT_NE(e.find("'id'"), std::string::npos) << e;
}

TEST(PreprocessPipeline, DropOutliersDropsTargetRowsToo) {
  Pipeline p = Pipeline::from_spec(
      R"({"steps": [{"kind": "outliers", "columns": ["b"], "method": "iqr", "factor": 0.5, "action": "drop"}]})");
  Table train = make_table(200, 8);
  Table out = p.fit_transform(train, "label");
  EXPECT_LT(out.rows(), train.rows());
  EXPECT_EQ(out.column("label").rows(), out.rows());
}

}  // namespace
}  // namespace loom::data
