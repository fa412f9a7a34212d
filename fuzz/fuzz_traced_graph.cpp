// Traced graph files (io/traced_graph_file.h): the JSON of op nodes, replayed by
// name through the op schemas, beside its constants' safetensors file.
#include "fuzz_support.h"
#include "loom/io/traced_graph_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = loom::fuzz::input_file(".graph.json", data, size);
  return loom::fuzz::run([&] { loom::io::load_traced_graph(path); });
}
