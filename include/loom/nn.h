#pragma once
// loom::nn: layers as Modules with PyTorch's parameter names and initialisation.
//
//   loom::manual_seed(0);
//   auto model = std::make_shared<loom::nn::Sequential>(
//       std::make_shared<loom::nn::Linear>(784, 256), std::make_shared<loom::nn::ReLU>(),
//       std::make_shared<loom::nn::Linear>(256, 10));
//   model->pack_parameters();  // optional: one arena for all weights and grads
//   loom::Tensor loss = loom::cross_entropy(model->forward(images), labels);
//   model->zero_grad();
//   loss.backward();
//   // ... optimizer->step() (loom/optim.h)
#include "loom/nn/activation.h"
#include "loom/nn/conv.h"
#include "loom/nn/decode.h"
#include "loom/nn/dropout.h"
#include "loom/nn/generate.h"
#include "loom/nn/graph.h"
#include "loom/nn/init.h"
#include "loom/nn/linear.h"
#include "loom/nn/merge.h"
#include "loom/nn/module.h"
#include "loom/nn/normalization.h"
#include "loom/nn/program.h"
#include "loom/nn/sequential.h"
#include "loom/nn/traced_graph.h"
#include "loom/nn/transformer.h"
