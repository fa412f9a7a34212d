#pragma once
// loom bench allreduce: latency and bandwidth of every allreduce algorithm.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace loom::cli {

struct BenchOptions {
  std::string sizes = "4K,256K,4M,64M";            // message sizes in bytes (K, M, G suffixes)
  std::string algorithms = "ring,rd,native,auto";  // and "mpi": blocking MPI_Allreduce, no timeout
  int iters = 0;                                   // 0: chosen per size
  int warmup = 2;
  int repeat = 1;  // rounds over all algorithms per size; the median round is reported
  std::string dtype = "f32";
};

CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);
int run_bench(const BenchOptions& options);

// "4K" -> 4096, "64M", "1G", "1000"; throws ValueError otherwise.
size_t parse_byte_size(const std::string& text);

}  // namespace loom::cli
