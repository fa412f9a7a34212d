// loom eval and loom infer: saved weights on new data. The weights file carries
// the model description and, for tabular models, the fitted pipeline.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "inputs.h"
#include "loom/data.h"
#include "loom/io.h"
#include "profile_report.h"
#include "stats_report.h"
#include "tabular.h"

namespace loom::cli {
namespace {

io::ModelBundle load_model(const EvalOptions& o) {
  return io::load_model_bundle(o.weights_path, o.model.empty() ? "" : model_description_text(o.model), o.model);
}

}  // namespace

int run_eval(const EvalOptions& o) {
  apply_threads(o.threads);
  io::ModelBundle l = load_model(o);
  const bool tabular = is_csv_path(o.data_dir);
  std::shared_ptr<const data::Dataset> set;
  Objective objective = Objective::classify;
  if (tabular) {
    TabularMeta meta = tabular_meta_from(l.info, o.weights_path);
    set = prepare_tabular(o.data_dir, meta, true);
    objective = meta.task == Task::classify ? Objective::classify : Objective::regress;
  } else {
    set = open_image_dataset(o.data_dir, false);
  }
  set = take_prefix(set, o.test_samples);
  // One untimed batch first: JIT kernels (oneDNN) are generated on first use, and
  // samples_per_s reports the steady state, as inference servers see it.
  train::evaluate(*l.model, *take_prefix(set, std::min<int64_t>(o.batch, set->size())), o.batch, objective);
  RunProfile profile(o.profile_path);
  const auto start = std::chrono::steady_clock::now();
  Evaluation ev = train::evaluate(*l.model, *set, o.batch, objective);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  profile.finish();
  // Inference throughput: forward passes in eval mode at --batch, data already in memory.
  nlohmann::json j{{"test_loss", ev.loss},
                   {"samples", ev.samples},
                   {"seconds", seconds},
                   {"samples_per_s", seconds > 0 ? static_cast<double>(ev.samples) / seconds : 0.0}};
  if (objective == Objective::classify) {
    std::printf("test accuracy %.2f%% (%lld samples), test loss %.4f\n", 100 * ev.accuracy,
                static_cast<long long>(ev.samples), ev.loss);
    j["test_accuracy"] = ev.accuracy;
  } else {
    std::printf("test RMSE %.4f, R^2 %.4f (%lld samples)\n", ev.rmse, ev.r2, static_cast<long long>(ev.samples));
    j["test_rmse"] = ev.rmse;
    j["test_r2"] = ev.r2;
  }
  RunMemoryStats memory;
  if (o.stats)
    memory.print();
  if (!o.metrics_path.empty()) {
    memory.add_to(j);
    io::write_text_file_atomically(o.metrics_path, j.dump(2) + "\n");
  }
  return 0;
}

int run_infer(const EvalOptions& o) {
  apply_threads(o.threads);
  io::ModelBundle l = load_model(o);
  LOOM_CHECK(is_csv_path(o.data_dir), "loom infer reads a CSV file (--data FILE.csv), got '", o.data_dir, "'");
  TabularMeta meta = tabular_meta_from(l.info, o.weights_path);
  auto set = prepare_tabular(o.data_dir, meta, false);
  Tensor out = train::predict(*l.model, *set, o.batch);
  std::string csv = meta.target + "\n";
  if (meta.task == Task::classify) {
    for (int64_t c : argmax(out, 1).to_vector<int64_t>())
      csv += meta.classes.at(static_cast<size_t>(c)) + "\n";
  } else {
    char buf[64];
    for (float v : out.to_vector<float>()) {
      std::snprintf(buf, sizeof(buf), "%.9g\n", v);
      csv += buf;
    }
  }
  if (o.output_path.empty() || o.output_path == "-") {
    std::fwrite(csv.data(), 1, csv.size(), stdout);
  } else {
    io::write_text_file_atomically(o.output_path, csv);
    std::printf("wrote %lld predictions to %s\n", static_cast<long long>(set->size()), o.output_path.c_str());
  }
  if (o.stats)  // on stderr when the predictions go to stdout
    RunMemoryStats().print(o.output_path.empty() || o.output_path == "-" ? stderr : stdout);
  return 0;
}

}  // namespace loom::cli
