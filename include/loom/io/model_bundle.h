#pragma once
// A model bundle: everything needed to run a trained model again, in one
// safetensors file that any safetensors reader can open.
//
// Layout: the weights under their state_dict names, and in __metadata__
// "loom.format" = "weights", "loom.model_description" (the model's JSON
// description), "loom.pipeline" (the fitted preprocessing pipeline's JSON, when
// there is one) plus the caller's own keys (e.g. tabular "loom.task",
// "loom.classes"). Written atomically (NOTE [Atomic writes]).
#include <map>
#include <memory>
#include <string>

#include "loom/nn/graph.h"

namespace loom::io {

struct BundleInfo {
  std::string description;                      // model description JSON (model_description.h)
  std::string pipeline;                         // preprocessing pipeline JSON; empty: none
  std::map<std::string, std::string> metadata;  // further keys, saved as given
};

struct ModelBundle {
  std::shared_ptr<nn::Graph> model;  // built from the description, weights loaded
  BundleInfo info;
};

// Throws ValueError for an empty description or a metadata key the bundle writes
// itself; IOError when writing fails (a previous file at `path` stays as it was).
void save_model_bundle(const std::string& path, const nn::Module& model, const BundleInfo& info);

// Reads a bundle and builds its model. `description_override` (a description's
// JSON text, named `override_source` in errors) replaces the stored one, e.g. for
// weights saved without it. Throws
// IOError naming the file when it is malformed, has no description (and no
// override is given) or its weights do not fit the model.
ModelBundle load_model_bundle(const std::string& path, const std::string& description_override = "",
                              const std::string& override_source = "the given model");

}  // namespace loom::io
