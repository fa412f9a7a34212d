#pragma once
// Learning-rate schedules as closed-form functions of a step counter.
//
// NOTE [Schedule steps]
// lr_at(t) is the learning rate after t scheduler steps (PyTorch's last_epoch), so
// lr_at(0) is the rate of the first update. Whether t advances once per batch or
// once per epoch is the caller's choice; the formulas are PyTorch's either way:
//
//   for (int64_t t = 0; t < total; ++t) {
//     schedule->apply(*optimizer, t);  // optimizer->set_lr(schedule->lr_at(t))
//     ... backward, optimizer->step()
//   }
#include <cstdint>
#include <memory>
#include <string>

#include "loom/optim/optimizer.h"

namespace loom::optim {

class LRSchedule {
 public:
  virtual ~LRSchedule() = default;
  virtual double lr_at(int64_t step) const = 0;
  // e.g. "cosine(lr=0.1, t_max=100, eta_min=0)".
  virtual std::string describe() const = 0;
  void apply(Optimizer& optimizer, int64_t step) const { optimizer.set_lr(lr_at(step)); }
};

class Constant : public LRSchedule {
 public:
  explicit Constant(double lr);
  double lr_at(int64_t step) const override;
  std::string describe() const override;

 private:
  double lr_;
};

// torch.optim.lr_scheduler.StepLR: lr * gamma^floor(t / step_size).
class StepLR : public LRSchedule {
 public:
  StepLR(double lr, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t step) const override;
  std::string describe() const override;

 private:
  double lr_;
  int64_t step_size_;
  double gamma_;
};

// CosineAnnealingLR's closed form: eta_min + (lr - eta_min) * (1 + cos(pi * t / t_max)) / 2.
// As in PyTorch, past t_max the curve keeps following the cosine (rising again).
class CosineAnnealing : public LRSchedule {
 public:
  CosineAnnealing(double lr, int64_t t_max, double eta_min = 0.0);
  double lr_at(int64_t step) const override;
  std::string describe() const override;

 private:
  double lr_;
  int64_t t_max_;
  double eta_min_;
};

// SequentialLR([LinearLR(start_factor, 1.0, total_iters=warmup_steps), after],
// milestones=[warmup_steps]): for t < warmup_steps the rate is
// after.lr_at(0) * (start_factor + (1 - start_factor) * t / warmup_steps), and from
// then on after.lr_at(t - warmup_steps), so `after` starts its own count at 0.
// start_factor defaults to LinearLR's 1/3.
class LinearWarmup : public LRSchedule {
 public:
  LinearWarmup(int64_t warmup_steps, std::shared_ptr<const LRSchedule> after, double start_factor = 1.0 / 3.0);
  double lr_at(int64_t step) const override;
  std::string describe() const override;

 private:
  int64_t warmup_steps_;
  std::shared_ptr<const LRSchedule> after_;
  double start_factor_;
};

struct ScheduleOptions {
  double lr = 1e-3;          // the base rate
  int64_t step_size = 30;    // "step"
  double gamma = 0.1;        // "step"
  int64_t t_max = 0;         // "cosine": steps after warmup; must be > 0
  double eta_min = 0.0;      // "cosine"
  int64_t warmup_steps = 0;  // > 0 wraps the schedule in LinearWarmup
  double warmup_start_factor = 1.0 / 3.0;
};

// "constant", "step" or "cosine", wrapped in LinearWarmup when warmup_steps > 0;
// throws ValueError naming the choices otherwise.
std::shared_ptr<const LRSchedule> make_schedule(const std::string& name, const ScheduleOptions& options);

// The command line's form: `total_steps` updates in all, the first `warmup_steps`
// of them warming up. Over the remaining n = total_steps - warmup_steps, "cosine"
// anneals to 0 with t_max = n and "step" multiplies by 0.1 after each third
// (step_size = n / 3, PyTorch's classic 30-of-90-epochs recipe).
std::shared_ptr<const LRSchedule> make_schedule(const std::string& name, double lr, int64_t total_steps,
                                                int64_t warmup_steps = 0);

}  // namespace loom::optim
