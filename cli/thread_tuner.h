#pragma once
// `--threads auto`: try a few thread splits on the first training steps and keep
// the fastest.
//
// NOTE [Thread auto-tuning]
// Which split wins depends on the model and the machine: a small MLP may run
// fastest on one thread (its GEMMs are too small to split), a CNN wants every
// core inside each op, and a graph with independent branches may prefer running
// them side by side (inter-op). Rather than guess, the tuner runs each candidate
// for a few steps (the first step of each is a warm-up and not counted), compares
// the median step times, and keeps the fastest for the rest of the run. The steps
// spent tuning are real training steps, but they ran under other thread counts, so
// a tuned run is reproducible only by passing the chosen split explicitly.
#include <cstdint>
#include <string>
#include <vector>

namespace loom::cli {

struct ThreadSplit {
  int intra_threads = 1;  // threads inside each op (parallel_for, GEMM)
  bool interop = false;   // independent graph branches run side by side
  std::string describe() const;
};

class ThreadTuner {
 public:
  // Candidates for a budget of `threads` cores.
  explicit ThreadTuner(int threads, int steps_per_candidate = 5);
  explicit ThreadTuner(std::vector<ThreadSplit> candidates, int steps_per_candidate = 5);

  // Call around every training step with the global step index (0, 1, ...).
  void before_step(int64_t step);
  void after_step(int64_t step, double seconds);

  bool done() const { return done_; }
  const ThreadSplit& chosen() const { return candidates_[best_]; }
  // One line per candidate with its median step time, and the choice.
  std::string report() const;
  const std::vector<ThreadSplit>& candidates() const { return candidates_; }

 private:
  void apply(const ThreadSplit& split) const;
  void finish();

  std::vector<ThreadSplit> candidates_;
  std::vector<std::vector<double>> times_;
  std::vector<double> medians_;
  int steps_per_candidate_;
  size_t best_ = 0;
  bool done_ = false;
};

}  // namespace loom::cli
