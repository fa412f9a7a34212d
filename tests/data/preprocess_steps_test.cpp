// Each preprocessing step's behaviour and edge cases: constant and all-missing
// columns, unseen categories, dropped outliers, bad specs, JSON round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "loom/core/error.h"
#include "loom/data/tabular/steps.h"

namespace loom::data {
namespace {

Column num(const std::string& name, std::vector<double> values) {
  Column c;
  c.name = name;
  c.values = std::move(values);
  return c;
}

// A categorical column from labels ("" = missing), codes in order of first appearance.
Column cat(const std::string& name, const std::vector<std::string>& labels) {
  Column c;
  c.name = name;
  c.type = ColumnType::categorical;
  for (const std::string& l : labels) {
    if (l.empty()) {
      c.values.push_back(NAN);
      continue;
    }
    auto it = std::find(c.categories.begin(), c.categories.end(), l);
    if (it == c.categories.end()) {
      c.categories.push_back(l);
      it = c.categories.end() - 1;
    }
    c.values.push_back(static_cast<double>(it - c.categories.begin()));
  }
  return c;
}

std::vector<std::string> names(const Table& t) {
  std::vector<std::string> out;
  for (const Column& c : t.columns())
    out.push_back(c.name);
  return out;
}

const std::vector<double>& values(const Table& t, const std::string& name) { return t.column(name).values; }

// Runs `fn`, expecting a ValueError whose message contains every one of `parts`.
template <typename Fn>
void expect_value_error(Fn fn, std::initializer_list<const char*> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected a ValueError";
  } catch (const ValueError& e) {
    for (const char* p : parts)
      EXPECT_NE(e.message().find(p), std::string::npos) << "message lacks \"" << p << "\": " << e.message();
  }
}

// ---- scalers ------------------------------------------------------------------

TEST(PreprocessSteps, StandardScaleConstantColumnAndMissing) {
  Table t({num("a", {1, 2, NAN, 3}), num("k", {7, 7, 7, 7}), cat("c", {"x", "y", "x", "y"})});
  StandardScale s;
  Table out = s.fit_transform(t);
  EXPECT_EQ(names(out), (std::vector<std::string>{"a", "k", "c"}));
  EXPECT_DOUBLE_EQ(s.state().mean[0], 2.0);
  EXPECT_DOUBLE_EQ(s.state().scale[0], std::sqrt(2.0 / 3.0));
  EXPECT_TRUE(std::isnan(values(out, "a")[2]));  // missing stays missing
  EXPECT_NEAR(values(out, "a")[0], -1 / std::sqrt(2.0 / 3.0), 1e-15);
  EXPECT_EQ(s.state().scale[1], 1.0);  // constant: scale 1, as scikit-learn
  EXPECT_EQ(values(out, "k"), (std::vector<double>{0, 0, 0, 0}));
  EXPECT_EQ(values(out, "c"), values(t, "c"));  // categorical passes through
}

TEST(PreprocessSteps, ScalersRejectAllMissingColumn) {
  Table t({num("a", {1, 2}), num("empty", {NAN, NAN})});
  expect_value_error([&] { StandardScale().fit(t); }, {"standard_scale", "'empty'", "missing"});
  expect_value_error([&] { MinMaxScale().fit(t); }, {"minmax_scale", "'empty'"});
  expect_value_error([&] { RobustScale().fit(t); }, {"robust_scale", "'empty'"});
}

TEST(PreprocessSteps, MinMaxAndRobust) {
  Table t({num("a", {0, 5, 10, 20})});
  Table mm = MinMaxScale({.range_min = -1, .range_max = 1}).fit_transform(t);
  EXPECT_EQ(values(mm, "a"), (std::vector<double>{-1, -0.5, 0, 1}));
  RobustScale robust;
  Table rb = robust.fit_transform(t);
  EXPECT_DOUBLE_EQ(robust.state().center[0], 7.5);
  EXPECT_DOUBLE_EQ(robust.state().scale[0], 12.5 - 3.75);  // numpy percentile 75 - 25
  EXPECT_DOUBLE_EQ(values(rb, "a")[0], -7.5 / 8.75);
}

TEST(PreprocessSteps, ColumnsOptionAndErrors) {
  Table t({num("a", {1, 2}), num("b", {3, 5}), cat("c", {"x", "y"})});
  Table out = StandardScale({.columns = {"b"}}).fit_transform(t);
  EXPECT_EQ(values(out, "a"), values(t, "a"));
  EXPECT_EQ(values(out, "b"), (std::vector<double>{-1, 1}));
  expect_value_error([&] { StandardScale({.columns = {"nope"}}).fit(t); }, {"'nope'", "'a', 'b', 'c'"});
  expect_value_error([&] { StandardScale({.columns = {"c"}}).fit(t); }, {"'c'", "categorical"});
  StandardScale s;
  s.fit(t);
  expect_value_error([&] { s.transform(Table({num("a", {1})})); }, {"'b'", "missing"});
  expect_value_error([&] { StandardScale().transform(t); }, {"before fit"});
}

// ---- impute -------------------------------------------------------------------

TEST(PreprocessSteps, ImputeStrategies) {
  Table t({num("a", {1, NAN, 3, 3, 10})});
  auto fill = [&](ImputeOptions o) { return values(Impute(o).fit_transform(t), "a")[1]; };
  EXPECT_DOUBLE_EQ(fill({.strategy = ImputeStrategy::mean}), 17.0 / 4);
  EXPECT_DOUBLE_EQ(fill({.strategy = ImputeStrategy::median}), 3.0);
  EXPECT_DOUBLE_EQ(fill({.strategy = ImputeStrategy::most_frequent}), 3.0);
  EXPECT_DOUBLE_EQ(fill({.strategy = ImputeStrategy::constant, .fill_value = -1}), -1.0);
  // Ties: the smallest value wins, as scikit-learn.
  Table tie({num("a", {5, 2, 5, 2, NAN})});
  EXPECT_EQ(values(Impute({.strategy = ImputeStrategy::most_frequent}).fit_transform(tie), "a")[4], 2.0);
}

TEST(PreprocessSteps, ImputeAllMissingColumnDroppedOrKept) {
  Table t({num("a", {1, NAN}), num("empty", {NAN, NAN}), num("b", {2, 3})});
  Impute drop;
  Table out = drop.fit_transform(t);
  EXPECT_EQ(names(out), (std::vector<std::string>{"a", "b"}));  // as scikit-learn's default
  EXPECT_EQ(drop.state().dropped, std::vector<std::string>{"empty"});
  Table kept = Impute({.keep_empty_features = true}).fit_transform(t);
  EXPECT_EQ(names(kept), (std::vector<std::string>{"a", "empty", "b"}));
  EXPECT_EQ(values(kept, "empty"), (std::vector<double>{0, 0}));
}

TEST(PreprocessSteps, ImputeCategorical) {
  Table t({cat("c", {"b", "a", "", "b", "a"})});
  Table mf = Impute({.columns = {"c"}, .strategy = ImputeStrategy::most_frequent}).fit_transform(t);
  const Column& c = mf.column("c");
  EXPECT_EQ(c.categories[static_cast<size_t>(c.values[2])], "a");  // tie between a and b: the smallest label
  Table k = Impute({.columns = {"c"}, .strategy = ImputeStrategy::constant, .fill_label = "none"}).fit_transform(t);
  EXPECT_EQ(k.column("c").categories[static_cast<size_t>(k.column("c").values[2])], "none");
  expect_value_error([&] { Impute({.columns = {"c"}, .strategy = ImputeStrategy::median}).fit(t); },
                     {"'c'", "categorical", "most_frequent"});
}

// ---- outliers, log, power -----------------------------------------------------

TEST(PreprocessSteps, OutliersClipAndDrop) {
  Table t({num("a", {1, 2, 3, 4, 100}), num("y", {0, 1, 0, 1, 1})});
  Outliers clip({.method = OutlierMethod::iqr});
  clip.set_target("y");
  Table clipped = clip.fit_transform(t);
  // q1 = 2, q3 = 4: bounds [-1, 7].
  EXPECT_EQ(values(clipped, "a"), (std::vector<double>{1, 2, 3, 4, 7}));
  Outliers drop({.method = OutlierMethod::iqr, .action = OutlierAction::drop});
  drop.set_target("y");
  Table dropped = drop.fit_transform(t);
  EXPECT_EQ(values(dropped, "a"), (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(values(dropped, "y"), (std::vector<double>{0, 1, 0, 1}));  // the target's row went too
  Table z = Outliers({.threshold = 1.5}).fit_transform(t);
  EXPECT_LT(values(z, "a")[4], 100.0);
  EXPECT_EQ(values(z, "a")[0], 1.0);
}

TEST(PreprocessSteps, LogRejectsValuesAtOrBelowMinusOne) {
  Table t({num("a", {0, std::exp(1.0) - 1, NAN})});
  Table out = Log().fit_transform(t);
  EXPECT_EQ(values(out, "a")[0], 0.0);
  EXPECT_DOUBLE_EQ(values(out, "a")[1], 1.0);
  expect_value_error([&] { Log().fit_transform(Table({num("bad", {1, -1})})); }, {"'bad'", "row 1", "> -1"});
}

TEST(PreprocessSteps, PowerMakesSkewedDataSymmetric) {
  std::vector<double> v;
  for (int i = 1; i <= 200; ++i)
    v.push_back(std::exp(i / 40.0));  // right-skewed
  Power yj;
  Table out = yj.fit_transform(Table({num("a", v)}));
  EXPECT_LT(yj.state().lambdas[0], 0.5);
  double mean = 0;
  for (double x : values(out, "a"))
    mean += x / 200;
  EXPECT_NEAR(mean, 0.0, 1e-12);
  Power bc({.method = PowerMethod::box_cox});
  Table b = bc.fit_transform(Table({num("a", v)}));
  EXPECT_NEAR(bc.state().lambdas[0], 0.0, 0.2);  // exp data: log is the right transform
  expect_value_error(
      [&] {
        Power({.method = PowerMethod::box_cox}).fit(Table({num("a", {1, 0, 2})}));
      },
      {"Box-Cox", "'a'", "positive"});
}

// ---- encoders -----------------------------------------------------------------

TEST(PreprocessSteps, OneHotSortsCategoriesAndMatchesByLabel) {
  OneHot enc;
  enc.fit(Table({cat("c", {"red", "blue", "green", "blue"}), num("n", {1, 2, 3, 4})}));
  // Another table with its own code order: encoding goes by label.
  Table out = enc.transform(Table({cat("c", {"green", "red"}), num("n", {5, 6})}));
  EXPECT_EQ(names(out), (std::vector<std::string>{"c_blue", "c_green", "c_red", "n"}));
  EXPECT_EQ(values(out, "c_green"), (std::vector<double>{1, 0}));
  EXPECT_EQ(values(out, "c_red"), (std::vector<double>{0, 1}));
  expect_value_error(
      [&] {
        enc.transform(Table({cat("c", {"red", "purple"}), num("n", {5, 6})}));
      },
      {"'c'", "'purple'", "row 1", "not seen at fit"});
  OneHot ignore({.handle_unknown = HandleUnknown::ignore});
  ignore.fit(Table({cat("c", {"a", "b"})}));
  Table z = ignore.transform(Table({cat("c", {"zzz"})}));
  EXPECT_EQ(values(z, "c_a")[0] + values(z, "c_b")[0], 0.0);
}

TEST(PreprocessSteps, OneHotMissingIsACategory) {
  Table out = OneHot().fit_transform(Table({cat("c", {"b", "", "a"})}));
  EXPECT_EQ(names(out), (std::vector<std::string>{"c_a", "c_b", "c_nan"}));
  EXPECT_EQ(values(out, "c_nan"), (std::vector<double>{0, 1, 0}));
}

TEST(PreprocessSteps, OrdinalCodes) {
  Ordinal ord;
  Table out = ord.fit_transform(Table({cat("c", {"m", "a", "", "z"})}));
  const auto& v = values(out, "c");
  EXPECT_EQ(v[0], 1.0);
  EXPECT_EQ(v[1], 0.0);
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 2.0);
  EXPECT_EQ(out.column("c").type, ColumnType::numeric);
  expect_value_error([&] { ord.transform(Table({cat("c", {"q"})})); }, {"'q'"});
  Ordinal lenient({.handle_unknown = HandleUnknown::use_encoded_value, .unknown_value = -1});
  lenient.fit(Table({cat("c", {"a"})}));
  EXPECT_EQ(values(lenient.transform(Table({cat("c", {"q"})})), "c")[0], -1.0);
}

// ---- discretize ---------------------------------------------------------------

TEST(PreprocessSteps, DiscretizeUniformQuantileAndConstant) {
  Table t({num("a", {0, 1, 2, 3, 4, 5, 6, 7, 8, 10}), num("k", std::vector<double>(10, 3.0))});
  Table u = Discretize({.n_bins = 5, .strategy = DiscretizeStrategy::uniform}).fit_transform(t);
  EXPECT_EQ(values(u, "a"), (std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}));
  EXPECT_EQ(values(u, "k"), std::vector<double>(10, 0.0));  // constant: one bin
  Discretize q({.n_bins = 2});
  Table qt = q.fit_transform(t);
  EXPECT_EQ(q.state().edges[0][1], 4.5);
  EXPECT_EQ(values(qt, "a"), (std::vector<double>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
}

// ---- feature selection --------------------------------------------------------

TEST(PreprocessSteps, VarianceThresholdAndCorrelationFilter) {
  Table t({num("a", {1, 2, 3, 4}), num("k", {5, 5, 5, 5}), num("a2", {2, 4, 6, 8.5}), num("b", {1, -1, 1, -1})});
  EXPECT_EQ(names(VarianceThreshold().fit_transform(t)), (std::vector<std::string>{"a", "a2", "b"}));
  CorrelationFilter corr({.threshold = 0.9});
  EXPECT_EQ(names(corr.fit_transform(t)), (std::vector<std::string>{"a", "k", "b"}));  // keeps the earlier of a, a2
  EXPECT_EQ(corr.state().removed, std::vector<std::string>{"a2"});
  expect_value_error([&] { VarianceThreshold({.threshold = 100}).fit(t); }, {"no column"});
}

TEST(PreprocessSteps, SelectKBestNeedsTargetAndPicksInformativeColumns) {
  std::vector<double> y, signal, noise;
  for (int i = 0; i < 60; ++i) {
    y.push_back(i % 3);
    signal.push_back((i % 3) * 2.0 + 0.1 * std::sin(i));
    noise.push_back(std::cos(i * 7.1));
  }
  Table t({num("noise", noise), num("signal", signal), num("y", y)});
  expect_value_error([&] { SelectKBest({.k = 1}).fit(t); }, {"select_k_best", "target"});
  for (SelectScore score : {SelectScore::f_classif, SelectScore::mutual_info}) {
    SelectKBest select({.score = score, .k = 1});
    select.set_target("y");
    EXPECT_EQ(names(select.fit_transform(t)), (std::vector<std::string>{"signal", "y"}));
    EXPECT_GT(select.state().scores[1], select.state().scores[0]);
  }
  // At inference the target is absent; the selection still applies.
  SelectKBest select({.k = 1});
  select.set_target("y");
  select.fit(t);
  EXPECT_EQ(names(select.transform(Table({num("noise", {1}), num("signal", {2})}))),
            std::vector<std::string>{"signal"});
}

// ---- polynomial, pca ----------------------------------------------------------

TEST(PreprocessSteps, PolynomialOrderAndNames) {
  Table out = Polynomial().fit_transform(Table({num("a", {2}), num("b", {3}), num("y", {1})}));
  // y is numeric too, so without a target it takes part; name it the target to keep it out.
  Polynomial p;
  p.set_target("y");
  out = p.fit_transform(Table({num("a", {2}), num("b", {3}), num("y", {1})}));
  EXPECT_EQ(names(out), (std::vector<std::string>{"a", "b", "a^2", "a b", "b^2", "y"}));
  EXPECT_EQ(out.column("a b").values[0], 6.0);
  EXPECT_EQ(out.column("b^2").values[0], 9.0);
}

TEST(PreprocessSteps, PcaOnALine) {
  std::vector<double> a, b;
  for (int i = 0; i < 50; ++i) {
    a.push_back(i);
    b.push_back(-2.0 * i + 1);
  }
  Pca pca({.n_components = 1});
  Table out = pca.fit_transform(Table({num("a", a), num("b", b)}));
  EXPECT_EQ(names(out), std::vector<std::string>{"pca0"});
  EXPECT_NEAR(pca.state().explained_variance_ratio[0], 1.0, 1e-12);
  // The largest |entry| (b's) is positive.
  EXPECT_NEAR(pca.state().components[1], 2 / std::sqrt(5.0), 1e-12);
  EXPECT_NEAR(pca.state().components[0], -1 / std::sqrt(5.0), 1e-12);
  expect_value_error([&] { Pca().fit(Table({num("a", {1, NAN, 2})})); }, {"'a'", "missing", "impute"});
  expect_value_error([&] { pca.transform(Table({num("a", {1, 2}), num("b", {NAN, 0})})); }, {"'b'", "row 0"});
  expect_value_error([&] { Pca({.n_components = 3}).fit(Table({num("a", a), num("b", b)})); }, {"n_components"});
}

// ---- schema_check -------------------------------------------------------------

TEST(PreprocessSteps, SchemaCheck) {
  SchemaCheck schema;
  schema.set_target("y");
  schema.fit(Table({num("a", {1}), cat("c", {"x"}), num("y", {0})}));
  EXPECT_NO_THROW(schema.transform(Table({num("a", {2}), cat("c", {"x"})})));  // no target at inference: fine
  expect_value_error([&] { schema.transform(Table({cat("c", {"x"})})); }, {"'a'", "missing"});
  expect_value_error(
      [&] {
        schema.transform(Table({cat("a", {"1"}), cat("c", {"x"})}));
      },
      {"'a'", "categorical", "numeric"});
  expect_value_error([&] { schema.transform(Table({num("a", {2}), cat("c", {"w"})})); }, {"'c'", "'w'"});
  expect_value_error(
      [&] {
        schema.transform(Table({num("a", {2}), cat("c", {"x"}), num("id", {3})}));
      },
      {"'id'", "allow_extra"});
}

// ---- specs and JSON -----------------------------------------------------------

TEST(PreprocessSteps, MakeStepErrors) {
  expect_value_error([] { make_step(R"({"kind": "standard_scal"})"); }, {"standard_scal", "standard_scale"});
  expect_value_error([] { make_step(R"({"kind": "standard_scale", "with_meen": false})"); },
                     {"with_meen", "with_mean"});
  expect_value_error([] { make_step(R"({"kind": "impute", "strategy": "mode"})"); }, {"strategy", "most_frequent"});
  expect_value_error([] { make_step(R"({"kind": "discretize", "n_bins": "5"})"); }, {"n_bins", "integer"});
  expect_value_error([] { make_step(R"({"strategy": "mean"})"); }, {"kind"});
  expect_value_error([] { make_step("{not json"); }, {"JSON"});
  expect_value_error([] { make_step(R"({"kind": "pca", "state": {"columns": ["a"]}})"); }, {"pca", "mean"});
}

// Every step: fit, save with to_json, rebuild with make_step, transform: the same bits.
TEST(PreprocessSteps, JsonRoundTripTransformsIdentically) {
  std::vector<double> a, b, c, y;
  std::vector<std::string> labels;
  for (int i = 0; i < 40; ++i) {
    a.push_back(std::sin(i * 0.7) * 3 + (i == 5 ? NAN : 0));
    b.push_back(std::exp(std::cos(i * 1.3)));
    c.push_back(i % 4);
    y.push_back(i % 2);
    labels.push_back(i % 3 == 0 ? "p" : (i % 3 == 1 ? "q" : "r"));
  }
  Table t({num("a", a), num("b", b), num("c", c), cat("s", labels), num("y", y)});
  const char* specs[] = {
      R"({"kind": "schema_check"})",
      R"({"kind": "impute", "strategy": "median"})",
      R"({"kind": "outliers", "method": "iqr", "factor": 1.0})",
      R"({"kind": "minmax_scale", "feature_range": [-1, 2]})",
      R"({"kind": "standard_scale"})",
      R"({"kind": "robust_scale", "quantile_range": [10, 90]})",
      R"({"kind": "log", "columns": ["b"]})",
      R"({"kind": "power", "columns": ["b", "c"]})",
      R"({"kind": "one_hot"})",
      R"({"kind": "ordinal"})",
      R"({"kind": "discretize", "n_bins": 3, "strategy": "uniform"})",
      R"({"kind": "variance_threshold", "threshold": 0.01})",
      R"({"kind": "correlation_filter", "columns": ["b", "c"]})",
      R"({"kind": "select_k_best", "columns": ["b", "c"], "k": 1})",
      R"({"kind": "select_k_best", "columns": ["b", "c"], "k": 1, "score": "mutual_info", "bins": 4})",
      R"({"kind": "polynomial", "columns": ["b", "c"], "degree": 3})",
      R"({"kind": "pca", "columns": ["b", "c"], "whiten": true})",
  };
  for (const char* spec : specs) {
    SCOPED_TRACE(spec);
    auto step = make_step(spec);
    step->set_target("y");
    Table clean = step->kind() == "pca" || step->kind() == "correlation_filter" || step->kind() == "select_k_best"
                      ? t.select_rows({0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12})
                      : t;
    Table first = step->fit_transform(clean);
    auto restored = make_step(step->to_json());
    ASSERT_TRUE(restored->fitted());
    EXPECT_EQ(restored->to_json(), step->to_json());
    Table second = restored->transform(clean);
    ASSERT_EQ(names(first), names(second));
    for (int64_t i = 0; i < first.cols(); ++i) {
      const auto& x = first.column(i).values;
      const auto& z = second.column(i).values;
      ASSERT_EQ(x.size(), z.size());
      EXPECT_EQ(0, std::memcmp(x.data(), z.data(), x.size() * sizeof(double))) << first.column(i).name;
    }
  }
}

}  // namespace
}  // namespace loom::data
