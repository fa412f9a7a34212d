#include "thread_tuner.h"

#include <algorithm>
#include <cstdio>

#include "loom/core/error.h"
#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"

namespace loom::cli {

std::string ThreadSplit::describe() const {
  return std::to_string(intra_threads) + (intra_threads == 1 ? " thread" : " threads") +
         (interop ? ", inter-op on" : ", inter-op off");
}

namespace {

std::vector<ThreadSplit> candidates_for(int threads) {
  std::vector<ThreadSplit> c{{threads, false}};
  if (threads > 1) {
    c.push_back({threads, true});
    c.push_back({1, false});
  }
  if (threads > 3)
    c.push_back({threads / 2, false});
  return c;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace

ThreadTuner::ThreadTuner(int threads, int steps_per_candidate)
    : ThreadTuner(candidates_for(threads), steps_per_candidate) {}

ThreadTuner::ThreadTuner(std::vector<ThreadSplit> candidates, int steps_per_candidate)
    : candidates_(std::move(candidates)), times_(candidates_.size()), steps_per_candidate_(steps_per_candidate) {
  LOOM_CHECK(!candidates_.empty(), "thread tuner: no candidate splits");
  LOOM_CHECK(steps_per_candidate_ >= 2, "thread tuner: need at least 2 steps per candidate (1 warm-up), got ",
             steps_per_candidate_);
  if (candidates_.size() == 1)
    finish();
}

void ThreadTuner::apply(const ThreadSplit& split) const {
  runtime::set_num_threads(split.intra_threads);
  runtime::set_interop_enabled(split.interop);
}

void ThreadTuner::before_step(int64_t step) {
  if (done_)
    return;
  const auto candidate = static_cast<size_t>(step / steps_per_candidate_);
  if (step % steps_per_candidate_ == 0 && candidate < candidates_.size())
    apply(candidates_[candidate]);
}

void ThreadTuner::after_step(int64_t step, double seconds) {
  if (done_)
    return;
  const auto candidate = static_cast<size_t>(step / steps_per_candidate_);
  if (candidate >= candidates_.size())
    return;
  if (step % steps_per_candidate_ != 0)  // the first step of each candidate warms up
    times_[candidate].push_back(seconds);
  if (candidate + 1 == candidates_.size() && step % steps_per_candidate_ == steps_per_candidate_ - 1)
    finish();
}

void ThreadTuner::finish() {
  medians_.clear();
  for (const auto& t : times_)
    medians_.push_back(median(t));
  best_ = 0;
  for (size_t i = 1; i < candidates_.size(); ++i) {
    if (medians_[i] > 0 && medians_[i] < medians_[best_])
      best_ = i;
  }
  done_ = true;
  apply(candidates_[best_]);
}

std::string ThreadTuner::report() const {
  std::string out;
  char line[160];
  for (size_t i = 0; i < candidates_.size() && i < medians_.size(); ++i) {
    std::snprintf(line, sizeof(line), "  %-32s %8.2f ms/step%s\n", candidates_[i].describe().c_str(), medians_[i] * 1e3,
                  i == best_ ? "  <- chosen" : "");
    out += line;
  }
  return "threads auto: " + chosen().describe() + "\n" + out;
}

}  // namespace loom::cli
