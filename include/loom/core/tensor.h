#pragma once
// Tensor: a view (shape, strides, offset) onto shared storage, with a dtype, a
// device, and the autograd fields that the autograd layer fills in.
//
// Methods here never record autograd history: they are the raw building blocks.
// Differentiable operations are free functions in loom/autograd/ops.h.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/allocator.h"
#include "loom/core/dtype.h"
#include "loom/core/error.h"
#include "loom/core/quant_params.h"
#include "loom/core/shape.h"

namespace loom {

namespace autograd {
class Node;
}

class Storage {
 public:
  Storage() = default;
  Storage(size_t nbytes, Device device);
  // Storage over memory loom does not own (it must outlive every view of it).
  static Storage borrow(void* data, size_t nbytes, Device device);
  void* data() const { return data_.get(); }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  DataPtr data_;
  size_t nbytes_ = 0;
  Device device_;
};

class TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- factories --------------------------------------------------------
  // Every factory takes a device; by default the thread's default device (the CPU
  // unless a DefaultDeviceGuard set another, NOTE [Default device]).
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = default_device());
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = default_device());
  static Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = default_device());
  static Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = default_device());
  static Tensor scalar(double value, DType dtype = DType::f32, Device device = default_device());
  static Tensor arange(int64_t n, DType dtype = DType::i64, Device device = default_device());
  // A copy of `values` (host memory) on `device`.
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = default_device());
  // A copy of contiguous host memory holding shape's elements of dtype, on `device`.
  static Tensor from_host(const void* data, const Shape& shape, DType dtype, Device device = default_device());

  // ---- properties -------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  const Shape& strides() const;
  int64_t offset() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t axis) const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  const Storage& storage() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "Tensor(f32 [2, 3])" plus values when small

  // ---- element access ------------------------------------------------------
  // raw_data() and data() address the device's memory (host memory on the CPU);
  // item() and to_vector() read through a CPU copy on any device.
  void* raw_data() const;  // address of element 0 (storage + offset)
  template <typename T>
  T* data() const {
    check_dtype(dtype_v<T>);
    return static_cast<T*>(raw_data());
  }
  template <typename T>
  T item() const;
  double item_double() const;  // the single element, converted
  template <typename T>
  std::vector<T> to_vector() const;  // the elements in row-major order

  // ---- raw views and copies (no autograd) ---------------------------------
  // A view of this tensor's storage: `offset`, and each stride, count elements. Throws
  // ValueError when sizes and strides differ in rank, a size, stride or the offset
  // is negative, or the view reaches past the end of the storage.
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  Tensor view(const Shape& shape) const;  // contiguous only; one -1 allowed
  Tensor contiguous() const;              // itself when already contiguous
  Tensor clone() const;                   // always a fresh contiguous copy
  Tensor to(DType dtype) const;           // converting copy (itself when same dtype)
  Tensor to(Device device) const;         // copy onto another device (itself when already there)
  Tensor detach() const;                  // same storage, no autograd history
  void copy_(const Tensor& src) const;    // element-wise copy into this; shapes must match
  void fill_(double value) const;

  // ---- quantization parameters (NOTE [Quantization parameters]) --------------
  // Null unless the tensor carries them.
  const QuantParams* quant_params() const;
  bool is_quantized() const { return quant_params() != nullptr; }
  // The same storage and layout, carrying `params`. Throws ValueError unless the
  // dtype is i8, u8 or i32, scales are positive and finite, the lengths agree,
  // the axis is one of the tensor's and per-axis lists have its size, and the
  // zero points lie in the dtype's range.
  Tensor with_quant_params(QuantParams params) const;

  // ---- autograd fields (filled by the autograd layer) ----------------------
  bool requires_grad() const;
  Tensor& set_requires_grad(bool requires_grad);
  Tensor grad() const;
  void set_grad(const Tensor& grad);
  // NOTE [Lazy zero gradient]
  // zero_grad() marks a defined gradient as zero without writing it: the next
  // backward copies its result in instead of adding it to zeros (one pass over the
  // gradient instead of a fill and an add), and grad() fills the zeros in if it is
  // read first. set_grad() clears the mark.
  void zero_grad() const;
  const std::shared_ptr<autograd::Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<autograd::Node> fn);
  bool is_leaf() const { return grad_fn() == nullptr; }
  // Reverse-mode gradient of this scalar into every leaf that requires grad.
  // Defined by the autograd layer (src/autograd/engine.cpp).
  void backward() const;
  // Incremented by in-place writes, so saved tensors can be checked (later).
  uint64_t version() const;
  void bump_version() const;

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }

 private:
  void check_dtype(DType expected) const;
  void check_defined() const;
  std::shared_ptr<TensorImpl> impl_;
};

class TensorImpl {
 public:
  Storage storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;
  DType dtype = DType::f32;
  uint64_t version = 0;
  // Autograd state. `grad` is stored as an impl so Tensor stays a complete type here.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  bool grad_is_zero = false;  // NOTE [Lazy zero gradient]
  std::shared_ptr<autograd::Node> grad_fn;
  std::shared_ptr<const QuantParams> quant;  // NOTE [Quantization parameters]
};

// Converts element `i` of a contiguous buffer of type `dtype` to/from double.
double load_as_double(const void* base, DType dtype, int64_t i);
void store_from_double(void* base, DType dtype, int64_t i, double v);

// Copies `src` into `dst` (same shape, any strides, any dtypes).
void strided_copy(const Tensor& src, const Tensor& dst);

}  // namespace loom
