#include <cblas.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "commands.h"
#include "inputs.h"
#include "loom/io/model_summary.h"
#include "loom/kernels.h"
#include "loom/runtime/parallel.h"

namespace loom::cli {
namespace {

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos)
        return line.substr(colon + 2);
    }
  }
  return "unknown";
}

std::string isa_features() {
  std::string s;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2"))
    s += " avx2";
  if (__builtin_cpu_supports("fma"))
    s += " fma";
  if (__builtin_cpu_supports("avx512f"))
    s += " avx512f";
  if (__builtin_cpu_supports("avx512bw"))
    s += " avx512bw";
  if (__builtin_cpu_supports("avx512vnni"))
    s += " avx512vnni";
  return s.empty() ? " (none beyond SSE2)" : s;
}

template <typename List>
void print_list(const List& list) {
  std::printf("  %-24s", list.family());
  for (const auto& e : list.entries())
    std::printf(" %s", e.name.c_str());
  std::printf("\n");
}

}  // namespace

// loom info --model M: what the model costs for a batch, from its shape rules.
static int print_model_summary(const InfoOptions& o) {
  const io::ModelDescription d = io::parse_model_description(model_description_text(o.model), o.model);
  const io::ModelSummary summary = io::summarize_model(d, o.batch);
  std::printf("%s", o.json ? (io::summary_json(summary) + "\n").c_str() : io::summary_table(summary).c_str());
  return 0;
}

int run_info(const InfoOptions& o) {
  apply_threads(o.threads);
  if (!o.model.empty())
    return print_model_summary(o);
  std::printf("loom %s (%s build, %s)\n", LOOM_VERSION, LOOM_BUILD_TYPE, LOOM_COMPILER);
  std::printf("cpu:      %s, %d cores available\n", cpu_model().c_str(), runtime::hardware_threads());
  std::printf("isa:     %s\n", isa_features().c_str());
  std::printf(
      "threads:  %d (from %s; precedence: --threads, LOOM_NUM_THREADS, cores / MPI ranks on this node), "
      "workers %s\n",
      runtime::num_threads(), runtime::num_threads_source(),
      runtime::pinning_enabled() ? "pinned to cores (LOOM_PIN=1)" : "not pinned (LOOM_PIN=1 pins them)");
  std::printf("openblas: %s, core %s, %d threads\n", openblas_get_config(), openblas_get_corename(),
              openblas_get_num_threads());
  std::printf("devices:  cpu (this build has no CUDA backend)\n");
  std::printf("kernels (in order of preference; LOOM_VERBOSE_KERNELS=1 prints choices):\n");
  print_list(kernels::gemm_kernels());
  print_list(kernels::conv2d_forward_kernels());
  print_list(kernels::unary_kernels());
  print_list(kernels::binary_kernels());
  print_list(kernels::reduce_kernels());
  print_list(kernels::softmax_forward_kernels());
  return 0;
}

}  // namespace loom::cli
