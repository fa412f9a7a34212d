#include "loom/data/mnist.h"

#include <filesystem>

#include "loom/core/error.h"
#include "loom/data/idx.h"

namespace loom::data {
namespace {

constexpr int64_t kSide = 28;
constexpr int64_t kClasses = 10;

// The first of "<base>.gz", "<base>" that exists; IOError listing both otherwise.
std::string find_file(const std::string& dir, const std::string& base, const char* what) {
  namespace fs = std::filesystem;
  const std::string gz = (fs::path(dir) / (base + ".gz")).string();
  const std::string plain = (fs::path(dir) / base).string();
  std::error_code ec;
  if (fs::is_regular_file(gz, ec))
    return gz;
  if (fs::is_regular_file(plain, ec))
    return plain;
  LOOM_THROW(IOError, "cannot find the ", what, " in ", dir, ": looked for ", gz, " and ", plain,
             "; download Fashion-MNIST (or MNIST) there or point the loader at the folder that has it");
}

}  // namespace

std::shared_ptr<TensorDataset> load_fashion_mnist_bytes(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  const char* split = train ? "training" : "test";
  const std::string images_path =
      find_file(dir, prefix + "-images-idx3-ubyte", train ? "training images" : "test images");
  const std::string labels_path =
      find_file(dir, prefix + "-labels-idx1-ubyte", train ? "training labels" : "test labels");

  Tensor images = read_idx(images_path, "image data");
  if (images.dtype() != DType::u8 || images.dim() != 3 || images.size(1) != kSide || images.size(2) != kSide) {
    LOOM_THROW(IOError, images_path, ": expected ubyte images of shape [N, 28, 28], found ", dtype_name(images.dtype()),
               " ", shape_str(images.shape()));
  }
  Tensor labels = read_idx(labels_path, "label data");
  if (labels.dtype() != DType::u8 || labels.dim() != 1) {
    LOOM_THROW(IOError, labels_path, ": expected ubyte labels of shape [N], found ", dtype_name(labels.dtype()), " ",
               shape_str(labels.shape()));
  }
  const int64_t n = images.size(0);
  if (labels.size(0) != n) {
    LOOM_THROW(IOError, "the ", split, " set has ", n, " images (", images_path, ") but ", labels.size(0), " labels (",
               labels_path, "); the files do not belong together");
  }

  Tensor targets = Tensor::empty({n}, DType::i64);
  const uint8_t* lp = static_cast<const uint8_t*>(labels.raw_data());
  int64_t* tp = targets.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (lp[i] >= kClasses) {
      LOOM_THROW(IOError, labels_path, ": label ", i, " is ", static_cast<int>(lp[i]), ", expected 0 to ",
                 kClasses - 1);
    }
    tp[i] = lp[i];
  }

  return std::make_shared<TensorDataset>(images.view({n, 1, kSide, kSide}), std::move(targets),
                                         StoredInputs::unit_bytes);
}

std::shared_ptr<TensorDataset> load_fashion_mnist(const std::string& dir, bool train) {
  // The bytes dataset's conversion of all its rows: the same floats, bit for bit.
  auto bytes = load_fashion_mnist_bytes(dir, train);
  Tensor inputs = bytes->size() > 0 ? bytes->batch_range(0, bytes->size()).input
                                    : Tensor::empty(bytes->inputs().shape(), DType::f32);
  return std::make_shared<TensorDataset>(std::move(inputs), bytes->targets());
}

}  // namespace loom::data
