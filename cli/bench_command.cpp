// loom bench allreduce: run it under mpirun; rank 0 prints one line per algorithm and size.
#include "bench_command.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::cli {

size_t parse_byte_size(const std::string& text) {
  size_t pos = 0;
  double value = 0;
  try {
    value = std::stod(text, &pos);
  } catch (const std::exception&) {
    LOOM_THROW(ValueError, "size '", text, "': expected a number of bytes such as 4096, 4K, 64M or 1G");
  }
  std::string unit = text.substr(pos);
  double mult = 1;
  if (unit == "K" || unit == "k" || unit == "KiB" || unit == "KB")
    mult = 1024;
  else if (unit == "M" || unit == "m" || unit == "MiB" || unit == "MB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "g" || unit == "GiB" || unit == "GB")
    mult = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "B")
    LOOM_THROW(ValueError, "size '", text, "': unknown unit '", unit, "'; use K, M or G (powers of 1024)");
  LOOM_CHECK(value >= 0, "size '", text, "' is negative");
  return static_cast<size_t>(value * mult);
}

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty())
      out.push_back(item);
  return out;
}

std::string human_bytes(size_t b) {
  char buf[32];
  if (b >= (size_t{1} << 30) && b % (size_t{1} << 30) == 0)
    std::snprintf(buf, sizeof buf, "%zu GiB", b >> 30);
  else if (b >= (size_t{1} << 20) && b % (size_t{1} << 20) == 0)
    std::snprintf(buf, sizeof buf, "%zu MiB", b >> 20);
  else if (b >= 1024 && b % 1024 == 0)
    std::snprintf(buf, sizeof buf, "%zu KiB", b >> 10);
  else
    std::snprintf(buf, sizeof buf, "%zu B", b);
  return buf;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchOptions& o) {
  auto* b = app.add_subcommand("bench", "Micro-benchmarks of loom's building blocks");
  b->require_subcommand(1);
  auto* a = b->add_subcommand("allreduce",
                              "Latency and bandwidth of each allreduce algorithm per message size; run it under "
                              "mpirun -np N (rank 0 prints)");
  a->add_option("--sizes", o.sizes, "Message sizes, comma-separated (bytes; K, M, G suffixes)")->capture_default_str();
  a->add_option("--algorithms", o.algorithms,
                "Comma-separated: ring, rd, native (MPI_Iallreduce with the timeout), shm (shared memory, all ranks "
                "on one node), auto, and mpi (blocking "
                "MPI_Allreduce, the reference)")
      ->capture_default_str();
  a->add_option("--iters", o.iters, "Timed iterations per size (default: more for small sizes)")
      ->check(CLI::Range(0, 1000000));
  a->add_option("--warmup", o.warmup, "Untimed iterations first")->check(CLI::Range(0, 1000))->capture_default_str();
  a->add_option("--repeat", o.repeat,
                "Measure every algorithm this many times, taking turns, and report the median (steadier on a "
                "busy machine)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  a->add_option("--dtype", o.dtype, "Element type: f32, f64, i64 or i32")
      ->check(CLI::IsMember({"f32", "f64", "i64", "i32"}))
      ->capture_default_str();
  return b;
}

int run_bench(const BenchOptions& o) {
  using namespace loom::distributed;
  using Clock = std::chrono::steady_clock;
  auto comm = mpi_world();
  const int p = comm->size(), rank = comm->rank();
  const DType dtype = dtype_from_name(o.dtype);
  const size_t elem = dtype_size(dtype);
  std::vector<size_t> sizes;
  for (const std::string& s : split_list(o.sizes))
    sizes.push_back(parse_byte_size(s));
  LOOM_CHECK(!sizes.empty(), "--sizes: no sizes given");
  struct Algo {
    std::string name;
    bool mpi_blocking;
    AllreduceAlgorithm algorithm;
  };
  std::vector<Algo> algos;
  for (const std::string& name : split_list(o.algorithms)) {
    if (name == "mpi")
      algos.push_back({name, true, AllreduceAlgorithm::native});
    else
      algos.push_back({name, false, parse_algorithm(name)});
  }
  LOOM_CHECK(!algos.empty(), "--algorithms: none given");
  if (rank == 0) {
    if (p == 1)
      std::printf("note: one rank; run under mpirun -np N for a real measurement\n");
    std::printf("allreduce %s sum over %d ranks (%d on this node); times are the slowest rank's\n", o.dtype.c_str(), p,
                comm->local_size());
    std::printf("%-10s %-8s %-8s %7s %12s %12s %12s\n", "size", "algo", "chosen", "iters", "latency_us", "algbw_GB/s",
                "busbw_GB/s");
  }
  std::vector<char> buffer;
  for (size_t bytes : sizes) {
    const int64_t count = static_cast<int64_t>(bytes / elem);
    const size_t used = static_cast<size_t>(count) * elem;
    buffer.assign(std::max<size_t>(used, 1), 0);
    int iters = o.iters;
    if (iters == 0)  // about 256 MiB moved per measurement, within [5, 500]
      iters = static_cast<int>(std::clamp<size_t>((size_t{256} << 20) / std::max<size_t>(used, 1), 5, 500));
    // Rounds take turns over the algorithms so that a burst of load elsewhere on the
    // machine hits all of them alike; each reports its median round.
    std::vector<std::vector<double>> rounds(algos.size());
    for (int round = 0; round < o.repeat; ++round) {
      for (size_t ai = 0; ai < algos.size(); ++ai) {
        const Algo& a = algos[ai];
        auto once = [&] {
          if (a.mpi_blocking) {
            MPI_Datatype t = dtype == DType::f32   ? MPI_FLOAT
                             : dtype == DType::f64 ? MPI_DOUBLE
                             : dtype == DType::i64 ? MPI_INT64_T
                                                   : MPI_INT32_T;
            MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(count), t, MPI_SUM, MPI_COMM_WORLD);
          } else {
            comm->allreduce(buffer.data(), count, dtype, ReduceOp::sum, a.algorithm);
          }
        };
        for (int i = 0; i < o.warmup; ++i)
          once();
        comm->barrier();
        auto start = Clock::now();
        for (int i = 0; i < iters; ++i)
          once();
        double seconds = std::chrono::duration<double>(Clock::now() - start).count() / iters;
        comm->allreduce(&seconds, 1, DType::f64, ReduceOp::max);
        rounds[ai].push_back(seconds);
      }
    }
    if (rank == 0) {
      for (size_t ai = 0; ai < algos.size(); ++ai) {
        const Algo& a = algos[ai];
        std::vector<double>& t = rounds[ai];
        std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
        const double seconds = t[t.size() / 2];
        const char* chosen = a.mpi_blocking ? "-"
                                            : algorithm_name(a.algorithm == AllreduceAlgorithm::automatic
                                                                 ? choose_algorithm(used, p, comm->local_size() == p)
                                                                 : a.algorithm);
        double algbw = static_cast<double>(used) / seconds / 1e9;
        double busbw = algbw * (p > 1 ? 2.0 * (p - 1) / p : 1.0);
        std::printf("%-10s %-8s %-8s %7d %12.1f %12.3f %12.3f\n", human_bytes(used).c_str(), a.name.c_str(), chosen,
                    iters, seconds * 1e6, algbw, busbw);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace loom::cli
