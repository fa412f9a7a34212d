#pragma once
// Training progress: a live bar on a terminal, plain periodic lines otherwise,
// so logs stay readable when stdout is a file or a pipe.
#include <chrono>
#include <cstdint>
#include <string>

namespace loom::cli {

class Progress {
 public:
  Progress(int64_t epoch, int64_t epochs, int64_t total_batches, bool quiet);
  // Called after every batch with running totals for the epoch.
  void update(int64_t batch, int64_t samples, double loss_sum, int64_t correct);
  // Ends the epoch's line.
  void finish(int64_t samples, double loss_sum, int64_t correct, double seconds);

 private:
  std::string line(int64_t batch, int64_t samples, double loss_sum, int64_t correct, double seconds) const;
  int64_t epoch_, epochs_, total_;
  bool quiet_, tty_;
  int64_t next_plain_report_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace loom::cli
