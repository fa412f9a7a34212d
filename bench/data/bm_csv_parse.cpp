// CSV parsing throughput at 1 and 2 threads, on the file named by $LOOM_BENCH_CSV
// (bench/compare_pandas.py generates one and compares with pandas.read_csv).
//   LOOM_BENCH_CSV=/tmp/big.csv build/bench/bm_csv_parse --benchmark_format=json
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "loom/core/error.h"
#include "loom/data/tabular/csv.h"
#include "loom/runtime/parallel.h"

namespace {

const char* bench_csv_path() {
  const char* path = std::getenv("LOOM_BENCH_CSV");
  return path != nullptr && *path != '\0' ? path : nullptr;
}

void report(benchmark::State& state, int64_t bytes) {
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["MB/s"] = benchmark::Counter(
      static_cast<double>(bytes) * static_cast<double>(state.iterations()) / 1e6, benchmark::Counter::kIsRate);
  state.counters["threads"] = static_cast<double>(state.range(0));
}

// The whole of read_csv: reading the file, parsing, typing the columns.
void BM_ReadCsv(benchmark::State& state) {
  const char* path = bench_csv_path();
  if (path == nullptr) {
    state.SkipWithError("set LOOM_BENCH_CSV to the CSV file to parse");
    return;
  }
  loom::runtime::set_num_threads(static_cast<int>(state.range(0)));
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<int64_t>(f.tellg());
  for (auto _ : state) {
    try {
      loom::data::Table t = loom::data::read_csv(path);
      benchmark::DoNotOptimize(t.rows());
    } catch (const loom::Error& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  report(state, bytes);
}

// Parsing only, from text already in memory.
void BM_ParseCsv(benchmark::State& state) {
  const char* path = bench_csv_path();
  if (path == nullptr) {
    state.SkipWithError("set LOOM_BENCH_CSV to the CSV file to parse");
    return;
  }
  loom::runtime::set_num_threads(static_cast<int>(state.range(0)));
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  for (auto _ : state) {
    try {
      loom::data::Table t = loom::data::parse_csv(text, {}, path);
      benchmark::DoNotOptimize(t.rows());
    } catch (const loom::Error& e) {
      state.SkipWithError(e.what());
      return;
    }
  }
  report(state, static_cast<int64_t>(text.size()));
}

}  // namespace

// Real time: the work is spread over threads, so CPU time of the main thread says little.
BENCHMARK(BM_ReadCsv)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_ParseCsv)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
