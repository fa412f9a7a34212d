#pragma once
// loom::optim: optimizers (torch.optim's update rules) and learning-rate schedules.
//
//   loom::optim::OptimizerOptions options;
//   options.lr = 0.1;
//   options.momentum = 0.9;
//   auto optimizer = loom::optim::make_optimizer("sgd", model->parameters(), options);
//   auto schedule = loom::optim::make_schedule("cosine", {.lr = 0.1, .t_max = total_steps});
//   for (int64_t t = 0; t < total_steps; ++t) {
//     schedule->apply(*optimizer, t);
//     optimizer->zero_grad();
//     loss_on_next_batch().backward();
//     optimizer->step();
//   }
#include "loom/optim/adam.h"
#include "loom/optim/optimizer.h"
#include "loom/optim/rmsprop.h"
#include "loom/optim/schedule.h"
#include "loom/optim/sgd.h"
