#pragma once
// A traced graph on disk (NOTE [Traced graphs] in loom/nn/traced_graph.h): a JSON
// file with the inputs, the constants' names, shapes and dtypes, the nodes (op,
// attributes, input names) and the outputs, beside a safetensors file with the
// constants' values, which the JSON names by a path relative to itself:
//
//   {"format": "loom.traced_graph", "version": 1,
//    "inputs": [{"name": "x", "shape": [8, 1, 28, 28], "dtype": "f32"}],
//    "constants": [{"name": "0.weight", "shape": [32, 1, 3, 3], "dtype": "f32"}, ...],
//    "nodes": [{"name": "conv2d_max_pool2d_0", "op": "conv2d_max_pool2d",
//               "inputs": ["x", "0.weight", "0.bias"], "attrs": {"stride_h": 1, ...}}, ...],
//    "outputs": ["linear_4"], "weights": "cnn.safetensors"}
#include <memory>
#include <string>

#include "loom/nn/traced_graph.h"

namespace loom::io {

// Writes `json_path` and, beside it, `json_path` with ".json" replaced by
// ".safetensors" (or appended), each atomically, the weights first, so a
// killed write leaves the old pair or a JSON naming complete weights.
void save_traced_graph(const nn::TracedGraph& graph, const std::string& json_path);

// Reads both files back. Every problem (malformed JSON, an unknown op or
// attribute, a reference to no value, a shape the op rejects, a constant missing
// from or differing in the weights file) is an IOError or ValueError naming the
// file and the node or constant.
std::shared_ptr<nn::TracedGraph> load_traced_graph(const std::string& json_path);

}  // namespace loom::io
