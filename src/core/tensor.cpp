#include "loom/core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "loom/core/strided.h"
#include "loom/core/tensor_kernels.h"

namespace loom {

Storage::Storage(size_t nbytes, Device device)
    : data_(allocator_for(device).allocate(nbytes)), nbytes_(nbytes), device_(device) {}

Storage Storage::borrow(void* data, size_t nbytes, Device device) {
  Storage s;
  s.data_ = DataPtr(data, [](void*) {});
  s.nbytes_ = nbytes;
  s.device_ = device;
  return s;
}

// ---- factories --------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape) {
    LOOM_CHECK(d >= 0, "tensor shape ", shape_str(shape), " has a negative dimension");
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(0.0);
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype, Device device) { return full({}, value, dtype, device); }

Tensor Tensor::arange(int64_t n, DType dtype, Device device) {
  LOOM_CHECK(n >= 0, "arange: the count must be >= 0, got ", n);
  std::vector<int64_t> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), int64_t{0});
  return from_vector(values, {n}, device).to(dtype);
}

Tensor Tensor::from_host(const void* data, const Shape& shape, DType dtype, Device device) {
  const size_t nbytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  auto host = std::make_shared<TensorImpl>();
  host->storage = Storage::borrow(const_cast<void*>(data), nbytes, Device::cpu());
  host->shape = shape;
  host->strides = contiguous_strides(shape);
  host->dtype = dtype;
  Tensor t = empty(shape, dtype, device);
  if (nbytes > 0)
    t.copy_(Tensor(std::move(host)));
  return t;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  LOOM_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), "from_vector: ", values.size(),
             " values do not fill shape ", shape_str(shape));
  return from_host(values.data(), shape, dtype_v<T>, device);
}
template Tensor Tensor::from_vector(const std::vector<float>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<double>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int64_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int32_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<int8_t>&, const Shape&, Device);
template Tensor Tensor::from_vector(const std::vector<uint8_t>&, const Shape&, Device);

// ---- properties ---------------------------------------------------------------

void Tensor::check_defined() const {
  if (!impl_)
    LOOM_THROW(ValueError, "operation on an undefined tensor");
}
const Shape& Tensor::shape() const {
  check_defined();
  return impl_->shape;
}
const Shape& Tensor::strides() const {
  check_defined();
  return impl_->strides;
}
int64_t Tensor::offset() const {
  check_defined();
  return impl_->offset;
}
DType Tensor::dtype() const {
  check_defined();
  return impl_->dtype;
}
Device Tensor::device() const {
  check_defined();
  return impl_->storage.device();
}
const Storage& Tensor::storage() const {
  check_defined();
  return impl_->storage;
}
int64_t Tensor::numel() const { return shape_numel(shape()); }

int64_t Tensor::size(int64_t axis) const {
  return shape()[static_cast<size_t>(normalize_axis(axis, dim(), "size: axis"))];
}

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  const Shape& st = strides();
  int64_t expected = 1;
  for (size_t i = sh.size(); i-- > 0;) {
    if (sh[i] == 1)
      continue;
    if (st[i] != expected)
      return false;
    expected *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  check_defined();
  if (impl_->storage.device().is_meta()) [[unlikely]]
    LOOM_THROW(ValueError, "a tensor on the meta device (", dtype_name(impl_->dtype), " ", shape_str(impl_->shape),
               ") has no data to read or write");
  return static_cast<char*>(impl_->storage.data()) + impl_->offset * static_cast<int64_t>(dtype_size(impl_->dtype));
}

void Tensor::check_dtype(DType expected) const {
  if (dtype() != expected) {
    LOOM_THROW(ValueError, "tensor has dtype ", dtype_name(dtype()), " but ", dtype_name(expected), " was expected");
  }
}

template <typename T>
T Tensor::item() const {
  LOOM_CHECK(numel() == 1, "item(): tensor of shape ", shape_str(shape()), " has ", numel(),
             " elements, expected exactly one");
  check_dtype(dtype_v<T>);
  if (!device().is_cpu())
    return to(Device::cpu()).item<T>();
  return *static_cast<const T*>(raw_data());
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template int64_t Tensor::item<int64_t>() const;
template int32_t Tensor::item<int32_t>() const;

double Tensor::item_double() const {
  LOOM_CHECK(numel() == 1, "item(): tensor of shape ", shape_str(shape()), " has ", numel(),
             " elements, expected exactly one");
  if (!device().is_cpu())
    return to(Device::cpu()).item_double();
  return load_as_double(raw_data(), dtype(), 0);
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = to(Device::cpu()).to(dtype_v<T>).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + c.numel());
}
template std::vector<float> Tensor::to_vector() const;
template std::vector<double> Tensor::to_vector() const;
template std::vector<int64_t> Tensor::to_vector() const;
template std::vector<int32_t> Tensor::to_vector() const;
template std::vector<uint8_t> Tensor::to_vector() const;
template std::vector<int8_t> Tensor::to_vector() const;

std::string Tensor::str() const {
  if (!impl_)
    return "Tensor(undefined)";
  std::ostringstream os;
  os << "Tensor(" << dtype_name(dtype()) << " " << shape_str(shape());
  if (device().is_meta()) {
    os << ", meta";
  } else if (numel() <= 16) {
    os << " {";
    Tensor c = to(Device::cpu()).contiguous();
    for (int64_t i = 0; i < c.numel(); ++i)
      os << (i ? ", " : "") << load_as_double(c.raw_data(), dtype(), i);
    os << "}";
  }
  os << ")";
  return os.str();
}

// ---- raw views and copies --------------------------------------------------------

namespace {

// A view must lie inside the storage it shares: from its offset to the farthest
// element its sizes and strides reach (nothing, when a size is 0). Checked in bytes,
// since a view's dtype need not divide its storage evenly (shard blocks).
void check_strided_view(const Shape& shape, const Shape& strides, int64_t offset, size_t storage_bytes, DType dtype) {
  LOOM_CHECK(shape.size() == strides.size(), "as_strided: sizes ", shape_str(shape), " have ", shape.size(),
             " dimensions but strides ", shape_str(strides), " have ", strides.size(),
             "; give one stride per dimension");
  LOOM_CHECK(offset >= 0, "as_strided: offset ", offset, " is negative (sizes ", shape_str(shape), ", strides ",
             shape_str(strides), "); an offset counts elements from the start of the storage");
  bool empty = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    LOOM_CHECK(shape[i] >= 0, "as_strided: size ", shape[i], " of dimension ", i, " in sizes ", shape_str(shape),
               " is negative");
    LOOM_CHECK(strides[i] >= 0, "as_strided: stride ", strides[i], " of dimension ", i, " in strides ",
               shape_str(strides), " is negative; a view steps forward through its storage (use a copy to reverse)");
    empty |= shape[i] == 0;
  }
  const auto elem = static_cast<int64_t>(dtype_size(dtype));
  const auto storage_elems = static_cast<int64_t>(storage_bytes) / elem;
  auto past_end = [&](const std::string& reach) {
    LOOM_CHECK(false, "as_strided: sizes ", shape_str(shape), " with strides ", shape_str(strides), " at offset ",
               offset, " reach ", reach, ", past the end of the storage of ", storage_elems, " ", dtype_name(dtype),
               " elements (", storage_bytes, " bytes); the view must lie inside the storage it shares");
  };
  if (empty) {
    if (offset > storage_elems)
      past_end(loom::detail::concat("offset ", offset));
    return;
  }
  int64_t last = offset;  // the farthest element the view reaches
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t step = 0;
    if (__builtin_mul_overflow(shape[i] - 1, strides[i], &step) || __builtin_add_overflow(last, step, &last))
      past_end("beyond the int64 range");
  }
  int64_t end_byte = 0;
  if (__builtin_add_overflow(last, 1, &end_byte) || __builtin_mul_overflow(end_byte, elem, &end_byte) ||
      end_byte > static_cast<int64_t>(storage_bytes))
    past_end(loom::detail::concat("element ", last));
}

}  // namespace

Tensor Tensor::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  check_defined();
  check_strided_view(shape, strides, offset, impl_->storage.nbytes(), impl_->dtype);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = impl_->dtype;
  if (impl_->quant && (impl_->quant->is_per_tensor() || (shape == impl_->shape && strides == impl_->strides)))
    impl->quant = impl_->quant;
  return Tensor(std::move(impl));
}

const QuantParams* Tensor::quant_params() const { return impl_ ? impl_->quant.get() : nullptr; }

Tensor Tensor::with_quant_params(QuantParams params) const {
  check_defined();
  const DType t = dtype();
  LOOM_CHECK(t == DType::i8 || t == DType::u8 || t == DType::i32,
             "with_quant_params: a quantized tensor holds i8, u8 or i32, not ", dtype_name(t));
  LOOM_CHECK(!params.scales.empty() && params.scales.size() == params.zero_points.size(),
             "with_quant_params: ", params.scales.size(), " scales and ", params.zero_points.size(),
             " zero points; they must be the same, non-zero, number");
  if (params.is_per_tensor()) {
    LOOM_CHECK(params.scales.size() == 1, "with_quant_params: per-tensor parameters have one scale, got ",
               params.scales.size());
  } else {
    LOOM_CHECK(params.axis < dim(), "with_quant_params: axis ", params.axis, " is not an axis of a tensor of shape ",
               shape_str(shape()));
    LOOM_CHECK(static_cast<int64_t>(params.scales.size()) == size(params.axis),
               "with_quant_params: ", params.scales.size(), " scales for axis ", params.axis, " of size ",
               size(params.axis), " (shape ", shape_str(shape()), ")");
  }
  for (size_t i = 0; i < params.scales.size(); ++i) {
    LOOM_CHECK(std::isfinite(params.scales[i]) && params.scales[i] > 0, "with_quant_params: scale ", i, " is ",
               params.scales[i], "; scales must be positive and finite");
    const int64_t zp = params.zero_points[i];
    LOOM_CHECK(t == DType::i32 || (zp >= quant_min(t) && zp <= quant_max(t)), "with_quant_params: zero point ", i,
               " is ", zp, ", outside ", dtype_name(t), "'s [", quant_min(t), ", ", quant_max(t), "]");
  }
  Tensor out = as_strided(shape(), strides(), offset());
  out.impl_->quant = std::make_shared<const QuantParams>(std::move(params));
  return out;
}

Tensor Tensor::view(const Shape& requested) const {
  Shape shape = requested;
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LOOM_CHECK(infer < 0, "view: more than one -1 in shape ", shape_str(requested));
      infer = static_cast<int64_t>(i);
    } else {
      LOOM_CHECK(shape[i] >= 0, "view: invalid dimension ", shape[i], " in ", shape_str(requested));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    LOOM_CHECK(known != 0 && numel() % known == 0, "view: cannot infer -1 in ", shape_str(requested),
               " for a tensor of ", numel(), " elements");
    shape[infer] = numel() / known;
  }
  LOOM_CHECK(shape_numel(shape) == numel(), "view: shape ", shape_str(requested), " has ", shape_numel(shape),
             " elements but the tensor of shape ", shape_str(this->shape()), " has ", numel());
  LOOM_CHECK(is_contiguous(), "view: tensor is not contiguous; use reshape");
  return as_strided(shape, contiguous_strides(shape), offset());
}

Tensor Tensor::contiguous() const {
  if (is_contiguous())
    return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  strided_copy(*this, out);
  out.impl_->quant = impl_->quant;
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype())
    return *this;
  Tensor out = empty(shape(), dtype, device());
  strided_copy(*this, out);
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device())
    return *this;
  Tensor out = empty(shape(), dtype(), device);
  strided_copy(*this, out);
  out.impl_->quant = impl_->quant;
  return out;
}

Tensor Tensor::detach() const {
  Tensor t = as_strided(shape(), strides(), offset());
  return t;
}

void Tensor::copy_(const Tensor& src) const {
  LOOM_CHECK(src.shape() == shape(), "copy_: source shape ", shape_str(src.shape()), " differs from destination shape ",
             shape_str(shape()));
  strided_copy(src, *this);
  bump_version();
}

void Tensor::fill_(double value) const {
  check_defined();
  fill_kernels()(*this, value);
  bump_version();
}

// ---- autograd fields ---------------------------------------------------------------

bool Tensor::requires_grad() const { return impl_ && impl_->requires_grad; }
Tensor& Tensor::set_requires_grad(bool requires_grad) {
  check_defined();
  LOOM_CHECK(!requires_grad || is_floating(dtype()), "requires_grad needs a floating dtype, got ", dtype_name(dtype()));
  impl_->requires_grad = requires_grad;
  return *this;
}
Tensor Tensor::grad() const {
  check_defined();
  if (impl_->grad_is_zero) {
    impl_->grad_is_zero = false;
    Tensor(impl_->grad).fill_(0.0);
  }
  return Tensor(impl_->grad);
}
void Tensor::set_grad(const Tensor& grad) {
  check_defined();
  impl_->grad = grad.impl_;
  impl_->grad_is_zero = false;
}
void Tensor::zero_grad() const {
  check_defined();
  impl_->grad_is_zero = impl_->grad != nullptr;
}
const std::shared_ptr<autograd::Node>& Tensor::grad_fn() const {
  check_defined();
  return impl_->grad_fn;
}
void Tensor::set_grad_fn(std::shared_ptr<autograd::Node> fn) {
  check_defined();
  impl_->grad_fn = std::move(fn);
}
uint64_t Tensor::version() const {
  check_defined();
  return impl_->version;
}
void Tensor::bump_version() const {
  check_defined();
  ++impl_->version;
}

// ---- element conversion and strided copy ---------------------------------------------

namespace {
float f16_to_float(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant ? NAN : INFINITY;
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  return sign ? -f : f;
}
uint16_t float_to_f16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  if (std::isnan(f))
    return sign | 0x7e00;
  float a = std::fabs(f);
  if (a >= 65520.0f)
    return sign | 0x7c00;
  if (a < 6.103515625e-05f) {  // subnormal
    return sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f));
  }
  int e;
  float m = std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  uint32_t mant = static_cast<uint32_t>(std::nearbyint((m * 2.0f - 1.0f) * 1024.0f));
  uint32_t exp = static_cast<uint32_t>(e - 1 + 15);
  if (mant == 1024) {
    mant = 0;
    ++exp;
  }
  if (exp >= 31)
    return sign | 0x7c00;
  return sign | static_cast<uint16_t>((exp << 10) | mant);
}
}  // namespace

double load_as_double(const void* base, DType dtype, int64_t i) {
  switch (dtype) {
    case DType::f32:
      return static_cast<const float*>(base)[i];
    case DType::f64:
      return static_cast<const double*>(base)[i];
    case DType::i64:
      return static_cast<double>(static_cast<const int64_t*>(base)[i]);
    case DType::i32:
      return static_cast<const int32_t*>(base)[i];
    case DType::i8:
      return static_cast<const int8_t*>(base)[i];
    case DType::u8:
      return static_cast<const uint8_t*>(base)[i];
    case DType::bf16:
      return bf16_to_float(static_cast<const uint16_t*>(base)[i]);
    case DType::f16:
      return f16_to_float(static_cast<const uint16_t*>(base)[i]);
    default:
      LOOM_ASSERT(false);
  }
}

void store_from_double(void* base, DType dtype, int64_t i, double v) {
  switch (dtype) {
    case DType::f32:
      static_cast<float*>(base)[i] = static_cast<float>(v);
      return;
    case DType::f64:
      static_cast<double*>(base)[i] = v;
      return;
    case DType::i64:
      static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v);
      return;
    case DType::i32:
      static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v);
      return;
    case DType::i8:
      static_cast<int8_t*>(base)[i] = static_cast<int8_t>(v);
      return;
    case DType::u8:
      static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(v);
      return;
    case DType::bf16:
      static_cast<uint16_t*>(base)[i] = float_to_bf16(static_cast<float>(v));
      return;
    case DType::f16:
      static_cast<uint16_t*>(base)[i] = float_to_f16(static_cast<float>(v));
      return;
    default:
      LOOM_ASSERT(false);
  }
}

void strided_copy(const Tensor& src, const Tensor& dst) {
  LOOM_ASSERT(src.shape() == dst.shape());
  if (src.dtype() == dst.dtype())
    copy_kernels()(src, dst);
  else
    cast_kernels()(src, dst);
}

}  // namespace loom
