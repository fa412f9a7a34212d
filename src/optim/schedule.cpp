#include "loom/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

namespace loom::optim {
namespace {

void check_step(int64_t step, const char* schedule) {
  LOOM_CHECK(step >= 0, schedule, ": the step must be >= 0, got ", step);
}

template <typename... Args>
std::string text(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace

Constant::Constant(double lr) : lr_(lr) { LOOM_CHECK(lr >= 0, "constant schedule: lr must be >= 0, got ", lr); }

double Constant::lr_at(int64_t step) const {
  check_step(step, "constant schedule");
  return lr_;
}

std::string Constant::describe() const { return text("constant(lr=", lr_, ")"); }

StepLR::StepLR(double lr, int64_t step_size, double gamma) : lr_(lr), step_size_(step_size), gamma_(gamma) {
  LOOM_CHECK(lr >= 0, "step schedule: lr must be >= 0, got ", lr);
  LOOM_CHECK(step_size > 0, "step schedule: step_size must be positive, got ", step_size);
  LOOM_CHECK(gamma >= 0, "step schedule: gamma must be >= 0, got ", gamma);
}

double StepLR::lr_at(int64_t step) const {
  check_step(step, "step schedule");
  return lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

std::string StepLR::describe() const {
  return text("step(lr=", lr_, ", step_size=", step_size_, ", gamma=", gamma_, ")");
}

CosineAnnealing::CosineAnnealing(double lr, int64_t t_max, double eta_min) : lr_(lr), t_max_(t_max), eta_min_(eta_min) {
  LOOM_CHECK(lr >= 0 && eta_min >= 0, "cosine schedule: lr and eta_min must be >= 0, got ", lr, " and ", eta_min);
  LOOM_CHECK(t_max > 0, "cosine schedule: t_max must be positive, got ", t_max,
             " (hint: set it to the number of steps the schedule should span)");
}

double CosineAnnealing::lr_at(int64_t step) const {
  check_step(step, "cosine schedule");
  const double phase = std::numbers::pi * static_cast<double>(step) / static_cast<double>(t_max_);
  return eta_min_ + (lr_ - eta_min_) * (1.0 + std::cos(phase)) / 2.0;
}

std::string CosineAnnealing::describe() const {
  return text("cosine(lr=", lr_, ", t_max=", t_max_, ", eta_min=", eta_min_, ")");
}

LinearWarmup::LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after, double start_factor)
    : warmup_steps_(warmup_steps), after_(std::move(after)), start_factor_(start_factor) {
  LOOM_CHECK(warmup_steps >= 0, "warmup: warmup_steps must be >= 0, got ", warmup_steps);
  LOOM_CHECK(after_ != nullptr, "warmup: the schedule after warmup is null");
  LOOM_CHECK(start_factor > 0 && start_factor <= 1, "warmup: start_factor must be in (0, 1] as LinearLR's, got ",
             start_factor);
}

double LinearWarmup::lr_at(int64_t step) const {
  check_step(step, "warmup");
  if (step >= warmup_steps_)
    return after_->lr_at(step - warmup_steps_);
  const double progress = static_cast<double>(step) / static_cast<double>(warmup_steps_);
  return after_->lr_at(0) * (start_factor_ + (1.0 - start_factor_) * progress);
}

std::string LinearWarmup::describe() const {
  return text("warmup(steps=", warmup_steps_, ", start_factor=", start_factor_, ") then ", after_->describe());
}

std::shared_ptr<const LRSchedule> make_schedule(const std::string& name, const ScheduleOptions& o) {
  std::shared_ptr<const LRSchedule> schedule;
  if (name == "constant") {
    schedule = std::make_shared<Constant>(o.lr);
  } else if (name == "step") {
    schedule = std::make_shared<StepLR>(o.lr, o.step_size, o.gamma);
  } else if (name == "cosine") {
    schedule = std::make_shared<CosineAnnealing>(o.lr, o.t_max, o.eta_min);
  } else {
    LOOM_THROW(ValueError, "unknown learning-rate schedule \"", name, "\"; expected one of: constant, step, cosine");
  }
  if (o.warmup_steps > 0)
    schedule = std::make_shared<LinearWarmup>(o.warmup_steps, schedule, o.warmup_start_factor);
  return schedule;
}

std::shared_ptr<const LRSchedule> make_schedule(const std::string& name, double lr, int64_t total_steps,
                                                int64_t warmup_steps) {
  LOOM_CHECK(total_steps >= 0 && warmup_steps >= 0, "make_schedule: total_steps and warmup_steps must be >= 0, got ",
             total_steps, " and ", warmup_steps);
  const int64_t after_warmup = std::max<int64_t>(1, total_steps - warmup_steps);
  ScheduleOptions o;
  o.lr = lr;
  o.t_max = after_warmup;
  o.step_size = std::max<int64_t>(1, after_warmup / 3);
  o.gamma = 0.1;
  o.warmup_steps = warmup_steps;
  return make_schedule(name, o);
}

}  // namespace loom::optim
