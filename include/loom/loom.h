#pragma once
// loom: train and deploy neural networks fast on every processor you have.
//
// A complete training step, through the library:
//
//   #include "loom/loom.h"
//   using namespace loom;
//
//   auto train = data::load_fashion_mnist("/usr/share/datasets/fashion-mnist", true);
//   auto model = io::model_from_json_text(io::builtin_model_description("mlp"), "mlp");
//   model->pack_parameters();  // one contiguous arena for parameters and gradients
//   auto opt = optim::make_optimizer("sgd", model->parameters(), {.lr = 0.05, .momentum = 0.9});
//   data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
//   while (auto batch = loader.next()) {
//     Tensor loss = cross_entropy((*model)(batch->input), batch->target);
//     opt->zero_grad();
//     loss.backward();
//     opt->step();
//   }
//
// See examples/train_mlp.cpp for the whole program.
#include "loom/autograd.h"
#include "loom/core.h"
#include "loom/data.h"
#include "loom/io.h"
#include "loom/kernels.h"
#include "loom/nn.h"
#include "loom/optim.h"
#include "loom/runtime.h"
#include "loom/train.h"
