#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace loom::cli {

Progress::Progress(int64_t epoch, int64_t epochs, int64_t total_batches, bool quiet)
    : epoch_(epoch), epochs_(epochs), total_(total_batches), quiet_(quiet), tty_(isatty(STDOUT_FILENO) == 1) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  next_plain_report_ = total_ / 4;
}

std::string Progress::line(int64_t batch, int64_t samples, double loss_sum, int64_t correct, double seconds) const {
  char buf[256];
  const double frac = total_ > 0 ? static_cast<double>(batch) / static_cast<double>(total_) : 1.0;
  std::string bar;
  if (tty_) {
    const int width = 24, filled = static_cast<int>(frac * width);
    bar = "[" + std::string(filled, '=') + (filled < width ? ">" : "") +
          std::string(width - filled - (filled < width ? 1 : 0), ' ') + "] ";
  }
  std::snprintf(buf, sizeof(buf), "epoch %lld/%lld %s%3.0f%%  loss %.4f  acc %.2f%%  %.0f samples/s",
                static_cast<long long>(epoch_), static_cast<long long>(epochs_), bar.c_str(), frac * 100,
                samples ? loss_sum / samples : 0.0, samples ? 100.0 * correct / samples : 0.0,
                seconds > 0 ? samples / seconds : 0.0);
  return buf;
}

void Progress::update(int64_t batch, int64_t samples, double loss_sum, int64_t correct) {
  if (quiet_)
    return;
  auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100))
      return;
    last_draw_ = now;
    std::printf("\r%s", line(batch, samples, loss_sum, correct, seconds).c_str());
    std::fflush(stdout);
  } else if (batch >= next_plain_report_ && next_plain_report_ <= total_ * 3 / 4) {
    next_plain_report_ += std::max<int64_t>(1, total_ / 4);  // 25%, 50%, 75%; finish() prints 100%
    std::printf("%s\n", line(batch, samples, loss_sum, correct, seconds).c_str());
    std::fflush(stdout);
  }
}

void Progress::finish(int64_t samples, double loss_sum, int64_t correct, double seconds) {
  if (quiet_)
    return;
  std::printf("%s%s  (%.1f s)\n", tty_ ? "\r" : "", line(total_, samples, loss_sum, correct, seconds).c_str(), seconds);
  std::fflush(stdout);
}

}  // namespace loom::cli
