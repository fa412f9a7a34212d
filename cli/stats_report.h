#pragma once
// `--stats`: the caching allocator's counters over a run (NOTE [Caching allocator]).
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "loom/core/allocator.h"

namespace loom::cli {

class RunMemoryStats {
 public:
  // Reads the counters once the first epoch (the warm-up) is done; the other
  // figures are for the whole process.
  void mark_warm();
  // After the training loop: `steps` is the number of steps after the warm-up epoch.
  void end_training(int64_t steps_after_warmup);
  // Prints peak, live and cached bytes, allocations served, system allocations,
  // and system allocations per step after the first epoch.
  void print(std::FILE* out = stdout) const;
  // Adds "peak_bytes", "live_bytes", "cached_bytes", "allocations", "system_allocs",
  // "system_frees" and, after training, "system_allocs_per_step_after_first_epoch".
  void add_to(nlohmann::json& j) const;

 private:
  MemoryStats warm_, trained_;
  bool warmed_ = false, trained_set_ = false;
  int64_t steps_ = 0;
};

}  // namespace loom::cli
