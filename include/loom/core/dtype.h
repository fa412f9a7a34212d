#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace loom {

// Element types. f32 is the working type; i64 holds labels and indices; i8/i32 are
// for quantized kernels and bf16/f16 for mixed precision (storage only for now).
enum class DType : uint8_t { f32, f64, i64, i32, i8, u8, bf16, f16, kCount };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
// Parses "f32", "float32", "i64", ... ; throws ValueError on anything else.
DType dtype_from_name(const std::string& name);
bool is_floating(DType t);

// bfloat16 is the top half of an f32: widening is exact, narrowing rounds to
// nearest even (a NaN stays a quiet NaN).
inline float bf16_to_float(uint16_t v) {
  const uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t float_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f))
    return 0x7fc0;
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

template <typename T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::f64;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::i64;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::i32;
};
template <>
struct dtype_of<int8_t> {
  static constexpr DType value = DType::i8;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::u8;
};
template <typename T>
inline constexpr DType dtype_v = dtype_of<T>::value;

}  // namespace loom
