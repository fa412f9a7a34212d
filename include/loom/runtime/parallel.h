#pragma once
// The intra-op thread budget and parallel_for.
//
// NOTE [Thread budget]
// One source of truth for how many threads loom computes with, in this order:
//   1. set_num_threads(n)  (the CLI's --threads)
//   2. the LOOM_NUM_THREADS environment variable
//   3. the number of cores this process may run on
// OpenBLAS is set to the same count, so library threads never oversubscribe.
//
// parallel_for splits [begin, end) statically by thread index (same split every
// run, so reductions give the same bits), runs nested calls inline, and rethrows
// the first exception from any worker on the caller.
#include <cstdint>
#include <functional>

namespace loom::runtime {

int num_threads();
void set_num_threads(int n);
// Where the current thread count came from: "flag", "LOOM_NUM_THREADS" or "cores".
const char* num_threads_source();
int hardware_threads();

// fn(chunk_begin, chunk_end) is called on up to num_threads() threads, each chunk
// at least `grain` long (except the last). Runs inline when nested or when small.
void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// True while the calling thread runs inside a parallel_for body.
bool in_parallel_region();

// Makes every parallel_for on the calling thread run inline. Loader workers call
// it so they never take the intra-op pool away from the training step.
void set_inline_parallelism(bool inline_only);

}  // namespace loom::runtime
