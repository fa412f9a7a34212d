#pragma once
// Tabular training: a CSV file with a target column, prepared by a preprocessing
// Pipeline that is fitted on the training split only and saved with the model,
// so evaluation and inference prepare data exactly as training did.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loom/data/dataset.h"
#include "loom/data/tabular/pipeline.h"
#include "loom/data/tabular/table.h"
#include "loom/io/model_bundle.h"

namespace loom::cli {

enum class Task { classify, regress };

// skip_rows lines are dropped before the header; without a header columns are c0, c1, ...
struct CsvLayout {
  int64_t skip_rows = 0;
  bool header = true;
  char delimiter = ',';
};

// What travels in the weights file's metadata besides the model description.
struct TabularMeta {
  Task task = Task::classify;
  std::string target;
  std::vector<std::string> classes;  // class index -> label (classification)
  std::string pipeline_json;         // the fitted pipeline
  CsvLayout csv;                     // how the CSV files are read
};

struct TabularData {
  TabularMeta meta;
  std::shared_ptr<data::TensorDataset> train, validation;
  int64_t features = 0;
};

// Reads `path`, splits off `validation_fraction` (stratified for classification),
// fits the pipeline (spec text or file, may be empty) on the training rows and
// transforms both parts. `task` is "classify", "regress" or "auto".
TabularData load_tabular(const std::string& path, const CsvLayout& layout, const std::string& target,
                         const std::string& pipeline_spec, const std::string& task, double validation_fraction,
                         uint64_t seed);

// Applies a saved pipeline to a CSV file. With the target column present, the
// dataset's targets are filled (else zeros); rows keep the file's order.
std::shared_ptr<data::TensorDataset> prepare_tabular(const std::string& path, const TabularMeta& meta,
                                                     bool need_target);

// The built-in tabular MLP: features -> 64 -> 64 -> outputs, ReLU, Adam.
std::string tabular_mlp_description(int64_t features, int64_t outputs);

bool is_csv_path(const std::string& path);
data::Table read_table(const std::string& path, const CsvLayout& layout);
// The bundle's pipeline and tabular metadata keys (loom.task, loom.target,
// loom.classes, loom.csv), and back.
void add_tabular_info(const TabularMeta& meta, io::BundleInfo& info);
TabularMeta tabular_meta_from(const io::BundleInfo& info, const std::string& source);

}  // namespace loom::cli
