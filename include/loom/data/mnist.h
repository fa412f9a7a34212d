#pragma once
// Fashion-MNIST and MNIST from their IDX files (same names and layout for both).
#include <memory>
#include <string>

#include "loom/data/dataset.h"

namespace loom::data {

// Where scripts/setup.sh puts Fashion-MNIST (the .gz files as distributed).
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Loads {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] from `dir` (the .gz name
// first, then the plain one). Inputs are f32 [N, 1, 28, 28] scaled to [0, 1] by
// x / 255 and nothing else (PyTorch's ToTensor()); targets are i64 [N] in [0, 10).
// Throws IOError naming the files on a missing file (listing the names it tried),
// a malformed file, images of the wrong shape, an image/label count mismatch or a
// label outside [0, 10).
std::shared_ptr<TensorDataset> load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true);

// The same samples, bit for bit, with the images kept as the files' bytes (u8
// [N, 1, 28, 28], StoredInputs::unit_bytes): a quarter of the memory, and a batch
// gathers a quarter of the bytes, converting them as it copies. `loom` trains and
// evaluates from this.
std::shared_ptr<TensorDataset> load_fashion_mnist_bytes(const std::string& dir = kFashionMnistDir, bool train = true);

// The same loader; MNIST's files have the same names and format.
inline std::shared_ptr<TensorDataset> load_mnist(const std::string& dir, bool train = true) {
  return load_fashion_mnist(dir, train);
}

}  // namespace loom::data
