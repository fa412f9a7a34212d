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

// Samples are the rows (first axis) of two tensors, like torch TensorDataset.
class TensorDataset : public Dataset {
 public:
  // inputs [N, ...], targets [N, ...]; throws ValueError when N differs.
  TensorDataset(Tensor inputs, Tensor targets);
  int64_t size() const override { return size_; }
  // Views into the stored tensors (no copy).
  Example get(int64_t index) const override;
  // Gathers the rows with one memcpy each into fresh contiguous tensors.
  Batch batch(const std::vector<int64_t>& indices) const override;
  // Views of rows [begin, end) (no copy); they share the dataset's storage.
  Batch batch_range(int64_t begin, int64_t end) const override;

  const Tensor& inputs() const { return inputs_; }
  const Tensor& targets() const { return targets_; }

 private:
  Tensor inputs_, targets_;  // contiguous
  int64_t size_ = 0;
};

}  // namespace loom::data
