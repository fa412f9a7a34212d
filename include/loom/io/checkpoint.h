#pragma once
// Training checkpoints: the model, the optimizer state and where training was, in
// one safetensors file, written atomically (NOTE [Atomic writes]).
//
// Layout: model tensors as "model.<state_dict name>", optimizer state as
// "optim.<state_dict name>" (e.g. "optim.3.exp_avg", "optim.step"), and in
// __metadata__ "loom.format", "loom.epoch", "loom.global_step", "loom.seed",
// "loom.optimizer" (its name, when saved with one) plus the caller's own keys.
// Any safetensors reader can open it; PyTorch-style names stay recognisable.
#include <cstdint>
#include <map>
#include <string>

#include "loom/nn/module.h"
#include "loom/optim/optimizer.h"

namespace loom::io {

struct CheckpointMeta {
  int64_t epoch = 0;        // epochs completed
  int64_t global_step = 0;  // optimizer steps taken
  uint64_t seed = 0;        // the run's seed (data order, init)
  // Free-form strings, e.g. "model_description" (its JSON text) or "command".
  // Keys starting with "loom." are reserved.
  std::map<std::string, std::string> extra;
};

// Throws ValueError for a reserved key in meta.extra; IOError when writing fails
// (the previous checkpoint at `path` then stays as it was).
void save_checkpoint(const std::string& path, const nn::Module& model, const optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);

// Restores the model (strictly: every name and shape must match) and, when given,
// the optimizer, then returns the metadata. Either both are restored or, on an
// error, neither is changed. Throws IOError naming the file: malformed file, not a
// loom checkpoint, tensors that do not match, no optimizer state when one is asked
// for, or state saved from a different optimizer type.
CheckpointMeta load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer);

// The metadata alone (e.g. to rebuild the model from its description first).
CheckpointMeta read_checkpoint_meta(const std::string& path);

}  // namespace loom::io
