#pragma once
// The io layer: model descriptions, safetensors, checkpoints and atomic writes.
//
//   auto desc = loom::io::parse_model_description(loom::io::builtin_model_description("cnn"), "builtin:cnn");
//   auto model = loom::io::build_model(desc);  // [N, 1, 28, 28] -> [N, 10]
//   auto opt = loom::optim::make_optimizer(desc.training->optimizer, model->parameters(),
//                                          {.lr = desc.training->lr});
//   loom::io::save_checkpoint("run.ckpt", *model, opt.get(),
//                             {.epoch = 1, .extra = {{"model_description", desc.text}}});
//   loom::io::CheckpointMeta meta = loom::io::load_checkpoint("run.ckpt", *model, opt.get());
//   loom::io::save_safetensors("weights.safetensors", model->state_dict());  // readable from Python
#include "loom/io/atomic_file.h"
#include "loom/io/checkpoint.h"
#include "loom/io/model_bundle.h"
#include "loom/io/model_description.h"
#include "loom/io/model_summary.h"
#include "loom/io/safetensors.h"
#include "loom/io/traced_graph_file.h"
