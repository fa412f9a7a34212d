// The SIMD kernels for AVX2 + FMA (8 floats a vector). Compiled with -mavx2 -mfma;
// includes nothing shared but plain headers (NOTE [ISA files] in simd_kernels.h).
#include <immintrin.h>

#include <cstdint>

namespace loom::kernels::cpu::simd {
namespace {

struct V {
  using R = __m256;
  using M = __m256;
  static constexpr int64_t W = 8;
  static R load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  // W IEEE halves at p (any alignment), F16C, round to nearest even.
  static R load_half(const void* p) { return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p))); }
  static void store_half(void* p, R v) {
    _mm_storeu_si128(static_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  // W bytes at p (any alignment), each widened to a float.
  static R load_bytes(const uint8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static __m256i lanes_below(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static M tail_mask(int64_t n) { return _mm256_castsi256_ps(lanes_below(n)); }
  static R load_tail(const float* p, int64_t n) { return _mm256_maskload_ps(p, lanes_below(n)); }
  static void store_tail(float* p, R v, int64_t n) { _mm256_maskstore_ps(p, lanes_below(n), v); }
  static R set1(float x) { return _mm256_set1_ps(x); }
  // even = x[0], x[2], ... and odd = x[1], x[3], ... of the 2W floats x = (a, b).
  static void deinterleave(R a, R b, R& even, R& odd) {
    // shuffle_ps works per 128-bit half ([a0 a2 b0 b2 | a4 a6 b4 b6]); the 64-bit
    // permute puts the halves' pairs in order.
    even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8));
    odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8));
  }
  // Lane i holds i.
  static R iota() { return _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7); }
  // Integral floats (|v| < 2^24) stored as int32, all lanes or the first n.
  static void store_i32(int32_t* p, R v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_cvtps_epi32(v)); }
  static void store_i32_tail(int32_t* p, R v, int64_t n) {
    _mm256_maskstore_epi32(p, lanes_below(n), _mm256_cvtps_epi32(v));
  }
  static R zero() { return _mm256_setzero_ps(); }
  static R add(R a, R b) { return _mm256_add_ps(a, b); }
  static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  static R div(R a, R b) { return _mm256_div_ps(a, b); }
  static R rcp_estimate(R a) { return _mm256_rcp_ps(a); }  // 12 bits
  static R fmadd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  static R fnmadd(R a, R b, R c) { return _mm256_fnmadd_ps(a, b, c); }
  static R max(R a, R b) { return _mm256_max_ps(a, b); }
  static R min(R a, R b) { return _mm256_min_ps(a, b); }
  static R sqrt(R a) { return _mm256_sqrt_ps(a); }
  static R abs(R a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static R copysign(R mag, R sign) {
    const R s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
  }
  static M gt(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M lt(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M eq(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M unord(R a, R b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }
  static M mor(M a, M b) { return _mm256_or_ps(a, b); }
  static R select(M m, R a, R b) { return _mm256_blendv_ps(b, a, m); }
  static R keep(M m, R a) { return _mm256_and_ps(m, a); }
  static R round(R a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static R floor(R a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static R pow2i(R n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  // x = m * 2^e with m in [0.5, 1), for positive normal x.
  static void split_exponent(R x, R& m, R& e) {
    const __m256i xi = _mm256_castps_si256(x);
    e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(xi, 23), _mm256_set1_epi32(126)));
    m = _mm256_castsi256_ps(
        _mm256_or_si256(_mm256_and_si256(xi, _mm256_set1_epi32(0x007fffff)), _mm256_set1_epi32(0x3f000000)));
  }
  static __m128 half_sum(R v) { return _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); }
  static float hsum(R v) {
    __m128 s = half_sum(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(R v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmin(R v) {
    __m128 s = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_min_ps(s, _mm_movehl_ps(s, s));
    s = _mm_min_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

}  // namespace
}  // namespace loom::kernels::cpu::simd

#include "cpu/simd_table_impl.h"

namespace loom::kernels::cpu::simd {

const Table& avx2_table() {
  static const Table table = make_table("avx2");
  return table;
}

}  // namespace loom::kernels::cpu::simd
