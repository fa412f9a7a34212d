#pragma once
// Datasets: indexed collections of (input, target) examples.
#include <cstdint>
#include <vector>

#include "loom/core/tensor.h"

namespace loom::data {

// One sample: input and target without a batch axis (a label is a 0-d i64 tensor).
struct Example {
  Tensor input;
  Tensor target;
};

// Many samples stacked along a new first axis.
struct Batch {
  Tensor input;
  Tensor target;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Throws IndexError when index is outside [0, size()).
  virtual Example get(int64_t index) const = 0;
  // The samples at `indices`, stacked. The default calls get() per index and copies
  // into one contiguous tensor per field (examples must agree in shape and dtype);
  // datasets that hold their data in memory override it with a gather.
  virtual Batch batch(const std::vector<int64_t>& indices) const;
  // Samples [begin, end) stacked, as batch() gives them (0 <= begin < end <= size(),
  // else IndexError). The default calls batch(); TensorDataset returns views of its
  // storage, as slicing a torch tensor does, so evaluation copies nothing.
  virtual Batch batch_range(int64_t begin, int64_t end) const;

 protected:
  // IndexError naming `where` unless 0 <= begin < end <= size().
  static void check_batch_range(int64_t begin, int64_t end, int64_t size, const char* where);
};

// How a TensorDataset's stored inputs become the inputs of its samples.
enum class StoredInputs {
  as_is,       // samples carry the stored tensor's values and dtype
  unit_bytes,  // u8 storage (a quarter of f32's memory); samples are f32 byte / 255,
               // torchvision's ToTensor, converted while a batch is gathered
};

// Samples are the rows (first axis) of two tensors, like torch TensorDataset.
class TensorDataset : public Dataset {
 public:
  // inputs [N, ...], targets [N, ...]; throws ValueError when N differs, or when
  // `stored` is unit_bytes and the inputs are not u8.
  TensorDataset(Tensor inputs, Tensor targets, StoredInputs stored = StoredInputs::as_is);
  int64_t size() const override { return size_; }
  // Views into the stored tensors (no copy); under unit_bytes the input is a
  // converted copy.
  Example get(int64_t index) const override;
  // Gathers the rows with one memcpy each (one conversion pass each under
  // unit_bytes) into fresh contiguous tensors.
  Batch batch(const std::vector<int64_t>& indices) const override;
  // Views of rows [begin, end) (no copy); they share the dataset's storage. Under
  // unit_bytes the inputs are converted into a fresh tensor.
  Batch batch_range(int64_t begin, int64_t end) const override;

  // The stored tensors: under unit_bytes the inputs are the u8 bytes.
  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }
  StoredInputs stored_inputs() const { return stored_; }

 private:
  Tensor inputs_, targets_;  // contiguous
  StoredInputs stored_ = StoredInputs::as_is;
  int64_t size_ = 0;
};

}  // namespace loom::data
