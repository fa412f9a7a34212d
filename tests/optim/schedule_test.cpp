// Schedules against PyTorch's formulas, evaluated by hand in the comments.
#include <gtest/gtest.h>

#include <cmath>

#include "loom/optim.h"

namespace loom::optim {
namespace {

TEST(Schedule, StepLRDecaysEveryStepSize) {
  // lr * gamma^floor(t / 3) with lr 0.1, gamma 0.5.
  StepLR s(0.1, 3, 0.5);
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(3), 0.05);
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.05);
  EXPECT_DOUBLE_EQ(s.lr_at(6), 0.025);
  EXPECT_DOUBLE_EQ(s.lr_at(10), 0.0125);  // floor(10 / 3) = 3
}

TEST(Schedule, CosineAnnealingClosedForm) {
  // eta_min + (lr - eta_min) * (1 + cos(pi t / 10)) / 2 with lr 0.1, eta_min 0.001.
  CosineAnnealing s(0.1, 10, 0.001);
  EXPECT_NEAR(s.lr_at(0), 0.1, 1e-15);
  // t = 2: cos(0.2 pi) = 0.809016994374947 -> 0.001 + 0.099 * 0.904508497187474
  EXPECT_NEAR(s.lr_at(2), 0.0905463412215599, 1e-15);
  EXPECT_NEAR(s.lr_at(5), 0.0505, 1e-15);  // cos(pi / 2) = 0: halfway
  EXPECT_NEAR(s.lr_at(10), 0.001, 1e-15);
  // Past t_max PyTorch's closed form keeps following the cosine back up.
  EXPECT_NEAR(s.lr_at(15), 0.0505, 1e-15);
  EXPECT_NEAR(s.lr_at(20), 0.1, 1e-15);
}

TEST(Schedule, LinearWarmupThenTheWrappedSchedule) {
  // LinearLR(start_factor 1/3, total_iters 4): factor 1/3 + (2/3) t / 4.
  LinearWarmup s(4, std::make_shared<Constant>(0.1));
  EXPECT_NEAR(s.lr_at(0), 0.1 / 3, 1e-15);
  EXPECT_NEAR(s.lr_at(1), 0.05, 1e-15);
  EXPECT_NEAR(s.lr_at(2), 0.2 / 3, 1e-15);
  EXPECT_NEAR(s.lr_at(3), 0.25 / 3, 1e-15);
  EXPECT_NEAR(s.lr_at(4), 0.1, 1e-15);
  EXPECT_NEAR(s.lr_at(100), 0.1, 1e-15);

  LinearWarmup from_low(2, std::make_shared<StepLR>(1.0, 2, 0.1), 0.5);
  EXPECT_NEAR(from_low.lr_at(0), 0.5, 1e-15);
  EXPECT_NEAR(from_low.lr_at(1), 0.75, 1e-15);
  EXPECT_NEAR(from_low.lr_at(2), 1.0, 1e-15);  // the step schedule's own t = 0
  EXPECT_NEAR(from_low.lr_at(4), 0.1, 1e-15);  // its t = 2
}

TEST(Schedule, FactoryBuildsNamedSchedules) {
  ScheduleOptions o;
  o.lr = 0.2;
  EXPECT_DOUBLE_EQ(make_schedule("constant", o)->lr_at(1000), 0.2);
  o.step_size = 2;
  o.gamma = 0.5;
  EXPECT_DOUBLE_EQ(make_schedule("step", o)->lr_at(4), 0.05);
  o.t_max = 4;
  o.warmup_steps = 2;
  auto warm_cosine = make_schedule("cosine", o);
  EXPECT_NEAR(warm_cosine->lr_at(0), 0.2 / 3, 1e-15);
  EXPECT_NEAR(warm_cosine->lr_at(2), 0.2, 1e-15);
  EXPECT_NEAR(warm_cosine->lr_at(4), 0.1, 1e-15);  // cosine's t = 2 of 4
  EXPECT_NEAR(warm_cosine->lr_at(6), 0.0, 1e-15);
  EXPECT_NE(warm_cosine->describe().find("cosine"), std::string::npos);

  try {
    make_schedule("linear", o);
    ADD_FAILURE() << "expected an error";
  } catch (const ValueError& e) {
    EXPECT_NE(e.message().find("constant, step, cosine"), std::string::npos) << e.message();
  }
  o.t_max = 0;
  EXPECT_THROW(make_schedule("cosine", o), ValueError);
  EXPECT_THROW(Constant(0.1).lr_at(-1), ValueError);
}

TEST(Schedule, CommandLineFormSpansTheRunAfterWarmup) {
  // 14 steps, 4 of warmup: cosine over the remaining 10.
  auto cosine = make_schedule("cosine", 0.1, 14, 4);
  EXPECT_NEAR(cosine->lr_at(4), 0.1, 1e-15);
  EXPECT_NEAR(cosine->lr_at(9), 0.05, 1e-15);
  EXPECT_NEAR(cosine->lr_at(14), 0.0, 1e-15);
  // 90 steps, no warmup: step_size 30, gamma 0.1.
  auto step = make_schedule("step", 1.0, 90);
  EXPECT_DOUBLE_EQ(step->lr_at(29), 1.0);
  EXPECT_DOUBLE_EQ(step->lr_at(30), 0.1);
  EXPECT_NEAR(step->lr_at(60), 0.01, 1e-17);
  EXPECT_DOUBLE_EQ(make_schedule("constant", 0.3, 0)->lr_at(5), 0.3);
}

TEST(Schedule, ApplySetsTheOptimizerRate) {
  Tensor p = Tensor::zeros({1}).set_requires_grad(true);
  auto opt = make_optimizer("sgd", {p}, {});
  StepLR(1.0, 1, 0.5).apply(*opt, 3);
  EXPECT_DOUBLE_EQ(opt->lr(), 0.125);
}

}  // namespace
}  // namespace loom::optim
