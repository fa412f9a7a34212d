// IEEE half conversions: the scalar forms, and the array forms through the SIMD
// tables (NOTE [ISA files] in cpu/simd_kernels.h).
#include "loom/kernels/half.h"

#include <cmath>
#include <cstring>

#include "cpu/simd_kernels.h"

namespace loom::kernels {

uint16_t float_to_half(float value) {
  uint32_t x;
  std::memcpy(&x, &value, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u)  // inf or NaN (kept quiet)
    return static_cast<uint16_t>(sign | (a > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (a >= 0x477ff000u)  // rounds past 65504
    return static_cast<uint16_t>(sign | 0x7c00u);
  if (a < 0x38800000u) {  // below 2^-14: a half subnormal, m * 2^-24
    float f;
    std::memcpy(&f, &a, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(f * 16777216.0f)));
  }
  a += 0xfffu + ((a >> 13) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(sign | ((a - (112u << 23)) >> 13));
}

float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0) {
    float f = static_cast<float>(mant) * (1.0f / 16777216.0f);
    std::memcpy(&x, &f, 4);
    x |= sign;
  } else if (exp == 31) {
    x = sign | 0x7f800000u | (mant << 13);
  } else {
    x = sign | ((exp + 112u) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &x, 4);
  return f;
}

void floats_to_halves(const float* src, void* halves, int64_t n) {
  if (const cpu::simd::Table* t = cpu::simd::active_table()) {
    t->to_half(src, halves, n);
    return;
  }
  auto* out = static_cast<unsigned char*>(halves);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = float_to_half(src[i]);
    std::memcpy(out + 2 * i, &h, 2);
  }
}

void add_halves_into(float* dst, const void* halves, int64_t n) {
  if (const cpu::simd::Table* t = cpu::simd::active_table()) {
    t->add_half(halves, dst, n);
    return;
  }
  const auto* in = static_cast<const unsigned char*>(halves);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    dst[i] += half_to_float(h);
  }
}

}  // namespace loom::kernels
