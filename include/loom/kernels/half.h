#pragma once
// IEEE binary16 ("half", fp16) conversions: round to nearest even, overflow to
// infinity, subnormals kept, NaN stays NaN. fp16 gradient compression sends halves.
#include <cstdint>

namespace loom::kernels {

uint16_t float_to_half(float value);
float half_to_float(uint16_t bits);

// The same over arrays, on the calling thread, with the widest SIMD this CPU has
// (F16C; LOOM_ISA lowers it). Halves are raw bytes at any alignment (a payload
// received from another rank). A NaN's payload bits may differ between the scalar
// and the SIMD forms; its sign and NaN-ness do not.
void floats_to_halves(const float* src, void* halves, int64_t n);
// dst[i] += half_to_float(halves[i]).
void add_halves_into(float* dst, const void* halves, int64_t n);

}  // namespace loom::kernels
