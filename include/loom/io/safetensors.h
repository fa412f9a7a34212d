#pragma once
// The safetensors format (https://github.com/huggingface/safetensors):
//   u64 little-endian N | N bytes of JSON header, space-padded | data buffer
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin,
// end]} (offsets relative to the buffer) and may hold "__metadata__", a map of
// strings. Files written here load with the Python `safetensors` package and back.
#include <map>
#include <string>

#include "loom/core/dtype.h"
#include "loom/nn/module.h"

namespace loom::io {

// The spec's dtype names: F32, F64, I64, I32, I8, U8, BF16, F16.
const char* safetensors_dtype_name(DType dtype);

// Writes the tensors contiguously, in the given order, atomically (NOTE [Atomic
// writes]). Throws ValueError on an empty, duplicate or reserved ("__metadata__")
// name, an undefined or non-CPU tensor; IOError when the file cannot be written.
void save_safetensors(const std::string& path, const nn::NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Loads every tensor, in the order of their data in the file (for files written by
// save_safetensors, the order they were given in), and the metadata when asked.
// Validates the whole file first: its length, the header length, the JSON, each
// entry's fields, the dtype, offsets that tile the data buffer exactly (no
// overlaps, gaps or bytes past the end) and match shape x dtype size, duplicate
// names. Any problem throws IOError naming the file and what is wrong.
nn::NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// Just the "__metadata__" map (validating the header, reading no tensor data).
std::map<std::string, std::string> read_safetensors_metadata(const std::string& path);

}  // namespace loom::io
