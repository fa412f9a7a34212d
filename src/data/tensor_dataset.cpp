#include <cstring>

#include "loom/core/error.h"
#include "loom/data/dataset.h"
#include "loom/kernels/elementwise.h"
#include "loom/runtime/parallel.h"

namespace loom::data {
namespace {

int64_t row_bytes(const Tensor& t) { return t.size(0) == 0 ? 0 : static_cast<int64_t>(t.nbytes()) / t.size(0); }

Tensor gather_rows(const Tensor& src, const std::vector<int64_t>& indices) {
  Shape shape = src.shape();
  shape[0] = static_cast<int64_t>(indices.size());
  Tensor dst = Tensor::empty(shape, src.dtype());
  const int64_t bytes = row_bytes(src);
  const char* s = static_cast<const char*>(src.raw_data());
  char* d = static_cast<char*>(dst.raw_data());
  // Threads only pay off for big batches; ~256 KiB per chunk keeps small ones inline.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(bytes, 1));
  runtime::parallel_for(0, static_cast<int64_t>(indices.size()), grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      std::memcpy(d + b * bytes, s + indices[static_cast<size_t>(b)] * bytes, static_cast<size_t>(bytes));
    }
  });
  return dst;
}

// Rows of u8 [N, ...] storage as f32 byte / 255, one conversion pass per row: the
// `rows` given, or when there are none, the run of `count` rows from `first`.
Tensor gather_unit_bytes(const Tensor& src, const std::vector<int64_t>& rows, int64_t first = 0, int64_t count = 0) {
  const int64_t n = rows.empty() ? count : static_cast<int64_t>(rows.size());
  Shape shape = src.shape();
  shape[0] = n;
  Tensor dst = Tensor::empty(shape, DType::f32);
  const int64_t row = src.size(0) == 0 ? 0 : src.numel() / src.size(0);
  const auto* s = static_cast<const uint8_t*>(src.raw_data());
  float* d = dst.data<float>();
  // ~256 KiB of output per chunk, as gather_rows.
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(row, 1));
  runtime::parallel_for(0, n, grain, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t r = rows.empty() ? first + b : rows[static_cast<size_t>(b)];
      kernels::bytes_to_unit_f32(s + r * row, d + b * row, row);
    }
  });
  return dst;
}

}  // namespace

TensorDataset::TensorDataset(Tensor inputs, Tensor targets, StoredInputs stored) : stored_(stored) {
  LOOM_CHECK(inputs.defined() && targets.defined(), "TensorDataset: inputs and targets must be defined tensors");
  LOOM_CHECK(inputs.dim() >= 1 && targets.dim() >= 1, "TensorDataset: inputs ", shape_str(inputs.shape()),
             " and targets ", shape_str(targets.shape()), " need a first (sample) axis");
  LOOM_CHECK(inputs.size(0) == targets.size(0), "TensorDataset: inputs have ", inputs.size(0), " samples (shape ",
             shape_str(inputs.shape()), ") but targets have ", targets.size(0), " (shape ", shape_str(targets.shape()),
             ")");
  LOOM_CHECK(inputs.device().is_cpu() && targets.device().is_cpu(), "TensorDataset: tensors must be on the CPU");
  LOOM_CHECK(stored != StoredInputs::unit_bytes || inputs.dtype() == DType::u8,
             "TensorDataset: inputs stored as unit bytes must be u8, got ", dtype_name(inputs.dtype()));
  // Contiguous storage is what makes batch() a plain row gather.
  inputs_ = inputs.detach().contiguous();
  targets_ = targets.detach().contiguous();
  size_ = inputs_.size(0);
}

Example TensorDataset::get(int64_t index) const {
  if (index < 0 || index >= size_) {
    LOOM_THROW(IndexError, "TensorDataset: index ", index, " is out of range for ", size_, " samples");
  }
  auto row = [index](const Tensor& t) {
    Shape shape(t.shape().begin() + 1, t.shape().end());
    return t.as_strided(shape, contiguous_strides(shape), t.offset() + index * t.strides()[0]);
  };
  if (stored_ == StoredInputs::unit_bytes)
    return {gather_unit_bytes(inputs_, {index}).view(row(inputs_).shape()), row(targets_)};
  return {row(inputs_), row(targets_)};
}

Batch TensorDataset::batch(const std::vector<int64_t>& indices) const {
  LOOM_CHECK(!indices.empty(), "TensorDataset::batch: no indices given");
  for (int64_t i : indices) {
    if (i < 0 || i >= size_) {
      LOOM_THROW(IndexError, "TensorDataset::batch: index ", i, " is out of range for ", size_, " samples");
    }
  }
  Tensor inputs =
      stored_ == StoredInputs::unit_bytes ? gather_unit_bytes(inputs_, indices) : gather_rows(inputs_, indices);
  return {inputs, gather_rows(targets_, indices)};
}

Batch TensorDataset::batch_range(int64_t begin, int64_t end) const {
  check_batch_range(begin, end, size_, "TensorDataset::batch_range");
  auto rows = [&](const Tensor& t) {
    Shape shape = t.shape();
    shape[0] = end - begin;
    return t.as_strided(shape, t.strides(), t.offset() + begin * t.strides()[0]);
  };
  if (stored_ == StoredInputs::unit_bytes)
    return {gather_unit_bytes(inputs_, {}, begin, end - begin), rows(targets_)};
  return {rows(inputs_), rows(targets_)};
}

}  // namespace loom::data
