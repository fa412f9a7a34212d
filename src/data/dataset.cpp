#include "loom/data/dataset.h"

#include "loom/core/error.h"

namespace loom::data {
namespace {

// Row `i` of a [B, ...] tensor, as a view.
Tensor row(const Tensor& t, int64_t i) {
  Shape shape(t.shape().begin() + 1, t.shape().end());
  Shape strides(t.strides().begin() + 1, t.strides().end());
  return t.as_strided(shape, strides, t.offset() + i * t.strides()[0]);
}

Tensor stacked_like(const Tensor& first, int64_t n) {
  Shape shape = first.shape();
  shape.insert(shape.begin(), n);
  return Tensor::empty(shape, first.dtype());
}

void check_same(const Tensor& t, const Tensor& first, const char* field, int64_t index, int64_t first_index) {
  if (t.shape() != first.shape() || t.dtype() != first.dtype()) {
    LOOM_THROW(ValueError, "Dataset::batch: example ", index, " has ", field, " ", dtype_name(t.dtype()), " ",
               shape_str(t.shape()), " but example ", first_index, " has ", dtype_name(first.dtype()), " ",
               shape_str(first.shape()), "; a batch needs examples of one shape and dtype");
  }
}

}  // namespace

void Dataset::check_batch_range(int64_t begin, int64_t end, int64_t size, const char* where) {
  if (begin < 0 || begin >= end || end > size) {
    LOOM_THROW(IndexError, where, ": samples [", begin, ", ", end, ") are not a non-empty range within the ", size,
               " samples");
  }
}

Batch Dataset::batch_range(int64_t begin, int64_t end) const {
  check_batch_range(begin, end, size(), "Dataset::batch_range");
  std::vector<int64_t> indices;
  for (int64_t i = begin; i < end; ++i)
    indices.push_back(i);
  return batch(indices);
}

Batch Dataset::batch(const std::vector<int64_t>& indices) const {
  LOOM_CHECK(!indices.empty(), "Dataset::batch: no indices given");
  const auto n = static_cast<int64_t>(indices.size());
  Example first = get(indices[0]);
  Batch out{stacked_like(first.input, n), stacked_like(first.target, n)};
  for (int64_t b = 0; b < n; ++b) {
    Example e = b == 0 ? first : get(indices[b]);
    check_same(e.input, first.input, "input", indices[b], indices[0]);
    check_same(e.target, first.target, "target", indices[b], indices[0]);
    strided_copy(e.input, row(out.input, b));
    strided_copy(e.target, row(out.target, b));
  }
  return out;
}

}  // namespace loom::data
