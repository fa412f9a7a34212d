#include "loom/train/callbacks.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "loom/io/atomic_file.h"
#include "loom/train/trainer.h"

namespace loom::train {

ProgressCallback::ProgressCallback(std::FILE* out) : out_(out), tty_(isatty(fileno(out)) == 1) {}

ProgressCallback::Position ProgressCallback::position(const Trainer& t) const {
  const TrainState& s = t.state();
  if (by_steps_)
    return {s.global_step, t.options().max_steps};
  return {s.batch, s.batches_per_epoch};
}

void ProgressCallback::on_epoch_begin(Trainer& t) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  by_steps_ = t.options().max_steps > 0;
  const Position at = position(t);
  next_plain_report_ = at.total / 4;
  while (next_plain_report_ <= at.done && next_plain_report_ <= at.total * 3 / 4)
    next_plain_report_ += std::max<int64_t>(1, at.total / 4);  // a resumed run starts past some marks
}

std::string ProgressCallback::line(const TrainState& s, Position at, double seconds) const {
  char buf[256];
  const int64_t total = at.total;
  const double frac = total > 0 ? static_cast<double>(at.done) / static_cast<double>(total) : 1.0;
  std::string bar;
  if (tty_) {
    const int width = 24, filled = static_cast<int>(frac * width);
    bar.reserve(width + 3);  // (appended piece by piece: GCC 12 warns falsely on the + chain)
    bar += '[';
    bar.append(static_cast<size_t>(filled), '=');
    if (filled < width)
      bar += '>';
    bar.append(static_cast<size_t>(width - filled - (filled < width ? 1 : 0)), ' ');
    bar += "] ";
  }
  // A sequence model scores every token: its rate is tokens/s.
  const bool tokens = s.positions > s.samples;
  const double rate = seconds > 0 ? static_cast<double>(tokens ? s.positions : s.samples) / seconds : 0.0;
  char where[64];
  if (by_steps_)
    std::snprintf(where, sizeof(where), "step %lld/%lld", static_cast<long long>(at.done),
                  static_cast<long long>(at.total));
  else
    std::snprintf(where, sizeof(where), "epoch %lld/%lld", static_cast<long long>(s.epoch + 1),
                  static_cast<long long>(s.epochs));
  std::snprintf(buf, sizeof(buf), "%s %s%3.0f%%  loss %.4f  acc %.2f%%  %.0f %s/s", where, bar.c_str(), frac * 100,
                s.epoch_loss(), 100.0 * s.epoch_accuracy(), rate, tokens ? "tokens" : "samples");
  return buf;
}

void ProgressCallback::on_step_end(Trainer& t) {
  if (!t.is_root())
    return;
  const TrainState& s = t.state();
  const Position at = position(t);
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100))
      return;
    last_draw_ = now;
    std::fprintf(out_, "\r%s", line(s, at, seconds).c_str());
    std::fflush(out_);
  } else if (at.done >= next_plain_report_ && next_plain_report_ <= at.total * 3 / 4) {
    next_plain_report_ += std::max<int64_t>(1, at.total / 4);  // 25%, 50%, 75%; the end prints 100%
    std::fprintf(out_, "%s\n", line(s, at, seconds).c_str());
    std::fflush(out_);
  }
}

void ProgressCallback::on_epoch_end(Trainer& t) {
  if (!t.is_root())
    return;
  const TrainState& s = t.state();
  std::string validation;
  if (s.validation) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "  validation loss %.4f acc %.2f%%", s.validation->loss,
                  100 * s.validation->accuracy);
    validation = buf;
  }
  std::fprintf(out_, "%s%s  (%.1f s)%s\n", tty_ ? "\r" : "", line(s, position(t), s.epoch_seconds).c_str(),
               s.epoch_seconds, validation.c_str());
  std::fflush(out_);
}

MetricsLogger::MetricsLogger(std::string path) : path_(std::move(path)) {
  LOOM_CHECK(!path_.empty(), "MetricsLogger: the path is empty");
}

void MetricsLogger::on_train_begin(Trainer&) { epochs_ = std::make_shared<nlohmann::json>(nlohmann::json::array()); }

void MetricsLogger::on_epoch_end(Trainer& t) {
  if (!t.is_root())
    return;
  const TrainState& s = t.state();
  nlohmann::json e = {{"epoch", s.epoch + 1},
                      {"global_step", s.global_step},
                      {"loss", s.epoch_loss()},
                      {"accuracy", s.epoch_accuracy()},
                      {"seconds", s.epoch_seconds}};
  if (s.validation) {
    e["validation_loss"] = s.validation->loss;
    e["validation_accuracy"] = s.validation->accuracy;
  }
  epochs_->push_back(e);
  io::write_text_file_atomically(path_, epochs_->dump(2) + "\n");
}

ProfilerCallback::ProfilerCallback(std::string trace_path) : path_(std::move(trace_path)) {}

ProfilerCallback::~ProfilerCallback() {
  if (running_)
    runtime::profiler_stop();
}

void ProfilerCallback::on_train_begin(Trainer&) {
  runtime::profiler_start();
  running_ = true;
}

void ProfilerCallback::on_train_end(Trainer& t) {
  if (!running_)
    return;
  runtime::profiler_stop();
  running_ = false;
  data_ = runtime::profiler_collect();
  if (!path_.empty() && t.is_root())
    io::write_file_atomically(path_, [&](std::FILE* f) { runtime::write_chrome_trace(data_, f); });
}

EarlyStopping::EarlyStopping(int64_t patience, double min_delta) : patience_(patience), min_delta_(min_delta) {
  LOOM_CHECK(patience >= 1, "EarlyStopping: patience must be >= 1 epoch, got ", patience);
  LOOM_CHECK(min_delta >= 0, "EarlyStopping: min_delta must be >= 0, got ", min_delta);
}

void EarlyStopping::on_train_begin(Trainer&) {
  best_ = std::numeric_limits<double>::infinity();
  waited_ = 0;
  stopped_after_ = -1;
}

void EarlyStopping::on_epoch_end(Trainer& t) {
  const TrainState& s = t.state();
  const double watched = s.validation ? s.validation->loss : s.epoch_loss();
  if (watched < best_ - min_delta_) {
    best_ = watched;
    waited_ = 0;
    return;
  }
  if (++waited_ >= patience_) {
    stopped_after_ = s.epoch + 1;
    t.request_stop();
  }
}

}  // namespace loom::train
