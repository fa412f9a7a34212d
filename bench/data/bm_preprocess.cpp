// Preprocessing fit+transform at 1 and 2 threads on the matrix in $LOOM_BENCH_MATRIX
// (raw little-endian f64, row-major, $LOOM_BENCH_COLS columns; bench/compare_sklearn.py
// writes one and compares with scikit-learn).
//   LOOM_BENCH_MATRIX=/tmp/x.f64 LOOM_BENCH_COLS=50 build/bench/bm_preprocess
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "loom/core/error.h"
#include "loom/data/tabular/pipeline.h"
#include "loom/runtime/parallel.h"

namespace {

// The matrix as a Table (loaded once; conversion is not timed).
const loom::data::Table* bench_table(std::string& error) {
  static std::unique_ptr<loom::data::Table> table;
  static std::string load_error;
  static bool loaded = false;
  if (!loaded) {
    loaded = true;
    const char* path = std::getenv("LOOM_BENCH_MATRIX");
    const char* cols_env = std::getenv("LOOM_BENCH_COLS");
    if (path == nullptr || cols_env == nullptr) {
      load_error = "set LOOM_BENCH_MATRIX (raw f64 row-major file) and LOOM_BENCH_COLS";
    } else {
      const int64_t cols = std::atoll(cols_env);
      std::ifstream f(path, std::ios::binary | std::ios::ate);
      const auto bytes = static_cast<int64_t>(f.tellg());
      if (!f || cols <= 0 || bytes % (8 * cols) != 0) {
        load_error = std::string("cannot read ") + path + " as a matrix of " + cols_env + " f64 columns";
      } else {
        const int64_t rows = bytes / (8 * cols);
        std::vector<double> raw(static_cast<size_t>(rows * cols));
        f.seekg(0);
        f.read(reinterpret_cast<char*>(raw.data()), bytes);
        std::vector<loom::data::Column> columns(static_cast<size_t>(cols));
        for (int64_t c = 0; c < cols; ++c) {
          auto& col = columns[static_cast<size_t>(c)];
          col.name = "f" + std::to_string(c);
          col.values.resize(static_cast<size_t>(rows));
          for (int64_t r = 0; r < rows; ++r)
            col.values[static_cast<size_t>(r)] = raw[static_cast<size_t>(r * cols + c)];
        }
        table = std::make_unique<loom::data::Table>(std::move(columns));
      }
    }
  }
  error = load_error;
  return table.get();
}

void run_spec(benchmark::State& state, const char* spec) {
  std::string error;
  const loom::data::Table* table = bench_table(error);
  if (table == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  loom::runtime::set_num_threads(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    try {
      loom::data::Pipeline p = loom::data::Pipeline::from_spec(spec);
      loom::data::Table out = p.fit_transform(*table);
      benchmark::DoNotOptimize(out.column(0).values.data());
    } catch (const loom::Error& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  state.counters["threads"] = static_cast<double>(state.range(0));
  state.counters["rows"] = static_cast<double>(table->rows());
}

// scikit-learn's make_pipeline(StandardScaler(), PCA(10)).fit_transform(X).
void BM_StandardScalePca(benchmark::State& state) {
  run_spec(state, R"({"steps": [{"kind": "standard_scale"}, {"kind": "pca", "n_components": 10}]})");
}
void BM_StandardScale(benchmark::State& state) { run_spec(state, R"({"steps": [{"kind": "standard_scale"}]})"); }
void BM_Pca(benchmark::State& state) { run_spec(state, R"({"steps": [{"kind": "pca", "n_components": 10}]})"); }

}  // namespace

// Real time: the work is spread over threads, so the main thread's CPU time says little.
BENCHMARK(BM_StandardScalePca)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_StandardScale)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Pca)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
