#pragma once
// OmpThreads: the calling thread's OpenMP thread count for a scope.
#include <omp.h>

namespace loom::kernels::cpu {

// NOTE [oneDNN on loom threads]
// oneDNN threads through OpenMP in this build. An OpenMP team beside loom's own
// pool would put two sets of spinning workers on the same cores, and on a busy
// machine a step can then take 50x longer. So oneDNN always runs serially (an
// OpenMP thread count is a per-thread setting) and loom's pool splits the work:
// each pool thread runs a one-thread primitive or sgemm on its own slice.
class OmpThreads {
 public:
  explicit OmpThreads(int n) : saved_(omp_get_max_threads()) {
    if (n != saved_)
      omp_set_num_threads(n);
  }
  ~OmpThreads() {
    if (omp_get_max_threads() != saved_)
      omp_set_num_threads(saved_);
  }
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_;
};

}  // namespace loom::kernels::cpu
