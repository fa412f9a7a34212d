#include "stats_report.h"

#include <cstdio>

namespace loom::cli {
namespace {

std::string human_bytes(int64_t bytes) {
  char buf[32];
  if (bytes >= (int64_t{1} << 30))
    std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  else if (bytes >= (int64_t{1} << 20))
    std::snprintf(buf, sizeof(buf), "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  else
    std::snprintf(buf, sizeof(buf), "%.1f KiB", static_cast<double>(bytes) / 1024);
  return buf;
}

}  // namespace

void RunMemoryStats::mark_warm() {
  warm_ = memory_stats();
  warmed_ = true;
}

void RunMemoryStats::end_training(int64_t steps_after_warmup) {
  trained_ = memory_stats();
  trained_set_ = true;
  steps_ = steps_after_warmup;
}

void RunMemoryStats::print(std::FILE* out) const {
  const MemoryStats now = memory_stats();
  std::fprintf(out,
               "memory: peak %s (%lld bytes), live %s, cached %s; %lld allocations served, %lld system allocations%s\n",
               human_bytes(now.peak_live_bytes).c_str(), static_cast<long long>(now.peak_live_bytes),
               human_bytes(now.live_bytes).c_str(), human_bytes(now.cached_bytes).c_str(),
               static_cast<long long>(now.allocations), static_cast<long long>(now.system_allocations),
               now.caching ? "" : " (LOOM_ALLOCATOR=system: caching is off)");
  if (trained_set_ && warmed_ && steps_ > 0) {
    const int64_t sys = trained_.system_allocations - warm_.system_allocations;
    std::fprintf(out, "memory: %.3f system allocations per step after the first epoch (%lld in %lld steps)\n",
                 static_cast<double>(sys) / static_cast<double>(steps_), static_cast<long long>(sys),
                 static_cast<long long>(steps_));
  } else if (trained_set_) {
    std::fprintf(out, "memory: system allocations per step after the first epoch: n/a (one epoch)\n");
  }
}

void RunMemoryStats::add_to(nlohmann::json& j) const {
  const MemoryStats now = memory_stats();
  j["peak_bytes"] = now.peak_live_bytes;
  j["live_bytes"] = now.live_bytes;
  j["cached_bytes"] = now.cached_bytes;
  j["allocations"] = now.allocations;
  j["system_allocs"] = now.system_allocations;
  j["system_frees"] = now.system_frees;
  j["allocator"] = now.caching ? "caching" : "system";
  if (trained_set_ && warmed_ && steps_ > 0) {
    j["system_allocs_per_step_after_first_epoch"] =
        static_cast<double>(trained_.system_allocations - warm_.system_allocations) / static_cast<double>(steps_);
  } else if (trained_set_) {
    j["system_allocs_per_step_after_first_epoch"] = nullptr;
  }
}

}  // namespace loom::cli
