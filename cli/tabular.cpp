#include "tabular.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "loom/data/sampling.h"
#include "loom/data/tabular/csv.h"

namespace loom::cli {
namespace {

// A target is a class label when it is categorical, or integer-valued with few values.
Task infer_task(const data::Column& target) {
  if (target.type == data::ColumnType::categorical)
    return Task::classify;
  std::set<double> values;
  for (double v : target.values) {
    if (data::Column::is_missing(v))
      continue;
    if (v != std::floor(v))
      return Task::regress;
    values.insert(v);
    if (values.size() > 20)
      return Task::regress;
  }
  return Task::classify;
}

// Class labels in a fixed order: categorical codes keep the reader's (sorted)
// categories; integer targets are sorted numerically.
std::vector<std::string> class_labels(const data::Column& target) {
  if (target.type == data::ColumnType::categorical)
    return target.categories;
  std::set<double> values;
  for (double v : target.values)
    if (!data::Column::is_missing(v))
      values.insert(v);
  std::vector<std::string> labels;
  for (double v : values)
    labels.push_back(std::to_string(static_cast<int64_t>(v)));
  return labels;
}

std::string label_of(const data::Column& target, double v) {
  if (target.type == data::ColumnType::categorical)
    return target.categories.at(static_cast<size_t>(v));
  return std::to_string(static_cast<int64_t>(v));
}

// Targets as a tensor: class indices (i64 [n]) or values (f32 [n, 1]).
Tensor target_tensor(const data::Column& target, const TabularMeta& meta, const std::string& source) {
  const int64_t n = target.rows();
  if (meta.task == Task::regress) {
    Tensor t = Tensor::empty({n, 1});
    float* p = t.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      LOOM_CHECK(!data::Column::is_missing(target.values[i]), source, ": row ", i + 1,
                 " has no value in target column '", target.name, "'");
      p[i] = static_cast<float>(target.values[i]);
    }
    return t;
  }
  std::map<std::string, int64_t> index;
  for (size_t i = 0; i < meta.classes.size(); ++i)
    index[meta.classes[i]] = static_cast<int64_t>(i);
  Tensor t = Tensor::empty({n}, DType::i64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    LOOM_CHECK(!data::Column::is_missing(target.values[i]), source, ": row ", i + 1, " has no value in target column '",
               target.name, "'");
    const std::string label = label_of(target, target.values[i]);
    auto it = index.find(label);
    LOOM_CHECK(it != index.end(), source, ": row ", i + 1, " has class '", label,
               "' which the model was not trained on (known: ", meta.classes.size(), " classes)");
    p[i] = it->second;
  }
  return t;
}

std::shared_ptr<data::TensorDataset> to_dataset(const data::Table& features, Tensor targets) {
  return std::make_shared<data::TensorDataset>(features.to_tensor(DType::f32), std::move(targets));
}

}  // namespace

bool is_csv_path(const std::string& path) {
  // .csv, or .csv.gz (read_csv inflates gzip).
  for (const char* suffix : {".csv", ".CSV", ".csv.gz", ".CSV.gz"}) {
    const std::string s(suffix);
    if (path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}

data::Table read_table(const std::string& path, const CsvLayout& layout) {
  data::CsvOptions options;
  options.skip_rows = layout.skip_rows;
  options.has_header = layout.header;
  options.delimiter = layout.delimiter;
  return data::read_csv(path, options);
}

TabularData load_tabular(const std::string& path, const CsvLayout& layout, const std::string& target,
                         const std::string& pipeline_spec, const std::string& task, double validation_fraction,
                         uint64_t seed) {
  LOOM_CHECK(!target.empty(), "training on ", path, " needs --target COLUMN (the column to predict)");
  data::Table table = read_table(path, layout);
  LOOM_CHECK(table.index_of(target) >= 0, path, ": no column named '", target, "' for --target");
  TabularData out;
  TabularMeta& meta = out.meta;
  meta.target = target;
  meta.csv = layout;
  const data::Column& y = table.column(target);
  meta.task = task == "auto" ? infer_task(y) : task == "classify" ? Task::classify : Task::regress;
  if (meta.task == Task::classify)
    meta.classes = class_labels(y);

  // Split first, so nothing learned by the pipeline comes from validation rows.
  data::Split split;
  if (meta.task == Task::classify) {
    Tensor labels = target_tensor(y, meta, path);
    split = data::train_validation_split(labels.to_vector<int64_t>(), validation_fraction, seed, true);
  } else {
    split = data::train_validation_split(table.rows(), validation_fraction, seed);
  }
  data::Table train_rows = table.select_rows(split.train), valid_rows = table.select_rows(split.validation);

  data::Pipeline pipeline = pipeline_spec.empty() ? data::Pipeline() : data::Pipeline::from_spec(pipeline_spec);
  pipeline.fit(train_rows, target);
  meta.pipeline_json = pipeline.to_json();

  auto features_and_target = [&](const data::Table& rows) {
    data::Table t = pipeline.transform(rows);
    data::Column yc = rows.column(target);
    if (t.index_of(target) >= 0)
      t.remove_column(target);
    for (const data::Column& c : t.columns()) {
      LOOM_CHECK(c.missing() == 0, path, ": feature '", c.name, "' still has ", c.missing(),
                 " missing values after preprocessing; add an \"impute\" step to the pipeline");
    }
    return std::make_pair(t, target_tensor(yc, meta, path));
  };
  auto [train_x, train_y] = features_and_target(train_rows);
  out.features = train_x.cols();
  out.train = to_dataset(train_x, train_y);
  if (!split.validation.empty()) {
    auto [valid_x, valid_y] = features_and_target(valid_rows);
    out.validation = to_dataset(valid_x, valid_y);
  }
  return out;
}

std::shared_ptr<data::TensorDataset> prepare_tabular(const std::string& path, const TabularMeta& meta,
                                                     bool need_target) {
  data::Table table = read_table(path, meta.csv);
  data::Pipeline pipeline = data::Pipeline::from_saved_json(meta.pipeline_json, path);
  const bool has_target = table.index_of(meta.target) >= 0;
  LOOM_CHECK(has_target || !need_target, path, ": no target column '", meta.target, "' to evaluate against");
  data::Table t = pipeline.transform(table);
  if (t.index_of(meta.target) >= 0)
    t.remove_column(meta.target);
  const int64_t n = table.rows();
  Tensor y = has_target ? target_tensor(table.column(meta.target), meta, path)
                        : (meta.task == Task::classify ? Tensor::zeros({n}, DType::i64) : Tensor::zeros({n, 1}));
  return to_dataset(t, y);
}

std::string tabular_mlp_description(int64_t features, int64_t outputs) {
  nlohmann::json j;
  j["name"] = "tabular_mlp";
  j["input_shape"] = {features};
  j["layers"] = nlohmann::json::array({{{"type", "linear"}, {"in", features}, {"out", 64}},
                                       {{"type", "relu"}},
                                       {{"type", "linear"}, {"in", 64}, {"out", 64}},
                                       {{"type", "relu"}},
                                       {{"type", "linear"}, {"in", 64}, {"out", outputs}}});
  j["training"] = {{"optimizer", "adam"}, {"lr", 0.001}, {"batch", 32}, {"epochs", 100}};
  return j.dump(2);
}

void add_tabular_info(const TabularMeta& meta, io::BundleInfo& info) {
  nlohmann::json classes = meta.classes;
  info.pipeline = meta.pipeline_json;
  info.metadata = {{"loom.task", meta.task == Task::classify ? "classify" : "regress"},
                   {"loom.target", meta.target},
                   {"loom.classes", classes.dump()},
                   {"loom.csv", nlohmann::json{{"skip_rows", meta.csv.skip_rows},
                                               {"header", meta.csv.header},
                                               {"delimiter", std::string(1, meta.csv.delimiter)}}
                                    .dump()}};
}

TabularMeta tabular_meta_from(const io::BundleInfo& info, const std::string& source) {
  TabularMeta meta;
  const auto& metadata = info.metadata;
  auto get = [&](const char* key) {
    auto it = metadata.find(key);
    LOOM_CHECK(it != metadata.end(), source, " has no '", key, "' entry: it was not trained on tabular data");
    return it->second;
  };
  meta.task = get("loom.task") == "regress" ? Task::regress : Task::classify;
  meta.target = get("loom.target");
  try {
    meta.classes = nlohmann::json::parse(get("loom.classes")).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    LOOM_THROW(IOError, source, ": malformed 'loom.classes' metadata: ", e.what());
  }
  LOOM_CHECK(!info.pipeline.empty(), source, " has no 'loom.pipeline' entry: it was not trained on tabular data");
  meta.pipeline_json = info.pipeline;
  try {
    auto csv = nlohmann::json::parse(get("loom.csv"));
    meta.csv.skip_rows = csv.at("skip_rows").get<int64_t>();
    meta.csv.header = csv.at("header").get<bool>();
    const std::string delimiter = csv.at("delimiter").get<std::string>();
    LOOM_CHECK(delimiter.size() == 1, source, ": 'loom.csv' delimiter must be one character");
    meta.csv.delimiter = delimiter[0];
  } catch (const nlohmann::json::exception& e) {
    LOOM_THROW(IOError, source, ": malformed 'loom.csv' metadata: ", e.what());
  }
  return meta;
}

}  // namespace loom::cli
