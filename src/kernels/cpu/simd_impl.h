#pragma once
// The SIMD kernels, written once over a vector type V and included by one file per
// ISA (simd_avx2.cpp, simd_avx512.cpp), each of which defines V first. Everything
// here has internal linkage (NOTE [ISA files] in simd_kernels.h).
//
// V provides: R (a float vector), M (a lane mask), W (lanes), load/store, the
// reciprocal estimate rcp_estimate (12 bits or more), the
// masked tail forms load_tail/store_tail (lanes past n read as 0, never written),
// set1, arithmetic, fmadd/fnmadd, max/min (the second operand when either is NaN,
// which matches the reference's `a > b ? a : b`), gt/lt/eq/unord masks, mor,
// select(m, a, b) = m ? a : b, keep(m, a) = m ? a : 0, round, floor, pow2i(n)
// (2^n for integral n in [-126, 127]), frexp-style exponent/mantissa split, and
// horizontal hsum/hmax/hmin.
#include <cstdint>

#include "cpu/simd_kernels.h"

namespace loom::kernels::cpu::simd {
namespace {

using R = V::R;
using M = V::M;
constexpr int64_t W = V::W;

// ---- math (Cephes single-precision polynomials, ~1-2 ulp) --------------------------

// exp(x): n = round(x / ln2), r = x - n ln2, e^r by a degree-6 polynomial, times 2^n
// applied in two halves so results down to the denormals come out right.
// e^r for r = x - n ln2 with n = round(x / ln2) (set in n): the shared core of
// vexp and vexp_nonpositive, which differ only in how they apply 2^n.
inline R exp_reduced(R x, R& n) {
  n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  R t = V::fnmadd(n, V::set1(0.693359375f), x);
  t = V::fnmadd(n, V::set1(-2.12194440e-4f), t);
  R p = V::set1(1.9875691500E-4f);
  p = V::fmadd(p, t, V::set1(1.3981999507E-3f));
  p = V::fmadd(p, t, V::set1(8.3334519073E-3f));
  p = V::fmadd(p, t, V::set1(4.1665795894E-2f));
  p = V::fmadd(p, t, V::set1(1.6666665459E-1f));
  p = V::fmadd(p, t, V::set1(5.0000001201E-1f));
  return V::fmadd(p, V::mul(t, t), V::add(t, V::set1(1.0f)));
}

inline R vexp(R x) {
  const M nan = V::unord(x, x);
  const M over = V::gt(x, V::set1(88.72283935546875f));
  R n;
  const R p = exp_reduced(V::min(V::max(x, V::set1(-104.0f)), V::set1(88.72283935546875f)), n);
  const R h = V::floor(V::mul(n, V::set1(0.5f)));
  R y = V::mul(V::mul(p, V::pow2i(h)), V::pow2i(V::sub(n, h)));
  y = V::select(over, V::set1(__builtin_inff()), y);
  return V::select(nan, x, y);
}

// log(x) for x > 0 (denormal inputs are treated as the smallest normal); 0 -> -inf,
// x < 0 -> NaN, inf -> inf, NaN -> NaN.
inline R vlog(R x) {
  const M bad = V::mor(V::lt(x, V::zero()), V::unord(x, x));
  const M zero = V::eq(x, V::zero());
  const M inf = V::eq(x, V::set1(__builtin_inff()));
  R m, e;
  V::split_exponent(V::max(x, V::set1(1.17549435e-38f)), m, e);  // x = m * 2^e, m in [0.5, 1)
  const M small = V::lt(m, V::set1(0.707106781186547524f));
  e = V::sub(e, V::keep(small, V::set1(1.0f)));
  m = V::sub(V::add(m, V::keep(small, m)), V::set1(1.0f));
  const R z = V::mul(m, m);
  R p = V::set1(7.0376836292E-2f);
  p = V::fmadd(p, m, V::set1(-1.1514610310E-1f));
  p = V::fmadd(p, m, V::set1(1.1676998740E-1f));
  p = V::fmadd(p, m, V::set1(-1.2420140846E-1f));
  p = V::fmadd(p, m, V::set1(1.4249322787E-1f));
  p = V::fmadd(p, m, V::set1(-1.6668057665E-1f));
  p = V::fmadd(p, m, V::set1(2.0000714765E-1f));
  p = V::fmadd(p, m, V::set1(-2.4999993993E-1f));
  p = V::fmadd(p, m, V::set1(3.3333331174E-1f));
  R y = V::mul(V::mul(p, m), z);
  y = V::fmadd(e, V::set1(-2.12194440e-4f), y);
  y = V::fnmadd(V::set1(0.5f), z, y);
  y = V::add(m, y);
  y = V::fmadd(e, V::set1(0.693359375f), y);
  y = V::select(inf, x, y);
  y = V::select(zero, V::set1(-__builtin_inff()), y);
  return V::select(bad, V::set1(__builtin_nanf("")), y);
}

// tanh: an odd polynomial below |x| = 0.625 (no cancellation near 0), else 1 - 2/(e^2|x| + 1).
inline R vtanh(R x) {
  const R ax = V::abs(x);
  const R z = V::mul(x, x);
  R p = V::set1(-5.70498872745E-3f);
  p = V::fmadd(p, z, V::set1(2.06390887954E-2f));
  p = V::fmadd(p, z, V::set1(-5.37397992312E-2f));
  p = V::fmadd(p, z, V::set1(1.33314422036E-1f));
  p = V::fmadd(p, z, V::set1(-3.33332819422E-1f));
  const R small = V::fmadd(V::mul(p, z), x, x);
  const R e = vexp(V::add(ax, ax));
  R big = V::sub(V::set1(1.0f), V::div(V::set1(2.0f), V::add(e, V::set1(1.0f))));
  big = V::copysign(big, x);
  return V::select(V::lt(ax, V::set1(0.625f)), small, big);
}

inline R vsigmoid(R x) { return V::div(V::set1(1.0f), V::add(V::set1(1.0f), vexp(V::sub(V::zero(), x)))); }

// exp(x) for x <= 0 (or barely above: the polynomial holds to x = 88), where
// results below the smallest normal float may flush to 0:
// vexp's polynomial with one 2^n scaling and none of its NaN, overflow and
// denormal handling (GELU's Gaussian factors need nothing more, and it is most
// of their cost). Below -87 it gives 0, so 2^n stays a normal number.
inline R vexp_nonpositive(R x) {
  R n;
  const R p = exp_reduced(V::max(x, V::set1(-87.0f)), n);
  return V::keep(V::gt(x, V::set1(-87.0f)), V::mul(p, V::pow2i(n)));  // 0 below, as vexp underflows
}

// sum a[i] b[i] over [0, n), in a fixed order.
inline float vdot(const float* a, const float* b, int64_t n) {
  R acc = V::zero();
  int64_t i = 0;
  for (; i + W <= n; i += W)
    acc = V::fmadd(V::load(a + i), V::load(b + i), acc);
  if (i < n)
    acc = V::fmadd(V::load_tail(a + i, n - i), V::load_tail(b + i, n - i), acc);
  return V::hsum(acc);
}

// The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, with erfc from
// Numerical Recipes' Chebyshev fit (relative error < 1.2e-7): the small tail for
// x < 0 keeps its relative accuracy, where 1 + erf(x) would cancel.
inline R vnormal_cdf(R x) {
  const R one = V::set1(1.0f);
  // z is capped where erfc(z) is 0 in floats anyway, so an infinite x keeps the
  // Newton step finite (a NaN x still gives NaN through the caller's x * Phi).
  const R z = V::min(V::mul(V::abs(x), V::set1(0.70710678118654752f)), V::set1(1e4f));
  // t = 1 / (1 + z / 2) by the estimate and one Newton step (about 23 bits
  // from AVX2's 12-bit estimate, the float's 24 from AVX-512's 14): a division
  // costs more than the rest of the function.
  const R den = V::fmadd(V::set1(0.5f), z, one);
  R t = V::rcp_estimate(den);
  t = V::mul(t, V::fnmadd(den, t, V::set1(2.0f)));
  R p = V::set1(0.17087277f);
  p = V::fmadd(p, t, V::set1(-0.82215223f));
  p = V::fmadd(p, t, V::set1(1.48851587f));
  p = V::fmadd(p, t, V::set1(-1.13520398f));
  p = V::fmadd(p, t, V::set1(0.27886807f));
  p = V::fmadd(p, t, V::set1(-0.18628806f));
  p = V::fmadd(p, t, V::set1(0.09678418f));
  p = V::fmadd(p, t, V::set1(0.37409196f));
  p = V::fmadd(p, t, V::set1(1.00002368f));
  p = V::fmadd(p, t, V::set1(-1.26551223f));
  // -z^2 + p is 0 at z = 0 (3e-8 from the fit's rounding) and falls from there.
  const R half_erfc = V::mul(V::set1(0.5f), V::mul(t, vexp_nonpositive(V::fnmadd(z, z, p))));
  return V::select(V::lt(x, V::zero()), half_erfc, V::sub(one, half_erfc));
}

inline R vgelu(R x) { return V::mul(x, vnormal_cdf(x)); }

inline R vgelu_grad(R x) {
  const R pdf = V::mul(vexp_nonpositive(V::mul(V::set1(-0.5f), V::mul(x, x))), V::set1(0.3989422804014327f));
  return V::fmadd(x, pdf, vnormal_cdf(x));
}

// ---- loops -------------------------------------------------------------------------

// d[i] = f(s[i]); the tail is one masked vector.
template <typename F>
inline void map1(const float* s, float* d, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const R x0 = V::load(s + i), x1 = V::load(s + i + W);
    V::store(d + i, f(x0));
    V::store(d + i + W, f(x1));
  }
  for (; i + W <= n; i += W)
    V::store(d + i, f(V::load(s + i)));
  if (i < n)
    V::store_tail(d + i, f(V::load_tail(s + i, n - i)), n - i);
}

template <typename F>
inline void map2(const float* a, const float* b, float* d, int64_t n, Operands ops, F f) {
  int64_t i = 0;
  if (ops == Operands::vv) {
    for (; i + W <= n; i += W)
      V::store(d + i, f(V::load(a + i), V::load(b + i)));
    if (i < n)
      V::store_tail(d + i, f(V::load_tail(a + i, n - i), V::load_tail(b + i, n - i)), n - i);
  } else if (ops == Operands::vs) {
    const R bv = V::set1(*b);
    for (; i + W <= n; i += W)
      V::store(d + i, f(V::load(a + i), bv));
    if (i < n)
      V::store_tail(d + i, f(V::load_tail(a + i, n - i), bv), n - i);
  } else {
    const R av = V::set1(*a);
    for (; i + W <= n; i += W)
      V::store(d + i, f(av, V::load(b + i)));
    if (i < n)
      V::store_tail(d + i, f(av, V::load_tail(b + i, n - i)), n - i);
  }
}

void unary(UnaryOp op, const float* s, float* d, int64_t n, float alpha, float beta) {
  const R one = V::set1(1.0f);
  switch (op) {
    case UnaryOp::neg:
      return map1(s, d, n, [](R x) { return V::sub(V::zero(), x); });
    case UnaryOp::relu:
      return map1(s, d, n, [](R x) { return V::max(x, V::zero()); });
    case UnaryOp::gelu:
      return map1(s, d, n, [](R x) { return vgelu(x); });
    case UnaryOp::tanh:
      return map1(s, d, n, [](R x) { return vtanh(x); });
    case UnaryOp::sigmoid:
      return map1(s, d, n, [](R x) { return vsigmoid(x); });
    case UnaryOp::exp:
      return map1(s, d, n, [](R x) { return vexp(x); });
    case UnaryOp::log:
      return map1(s, d, n, [](R x) { return vlog(x); });
    case UnaryOp::sqrt:
      return map1(s, d, n, [](R x) { return V::sqrt(x); });
    case UnaryOp::rsqrt:
      return map1(s, d, n, [one](R x) { return V::div(one, V::sqrt(x)); });
    case UnaryOp::abs:
      return map1(s, d, n, [](R x) { return V::abs(x); });
    case UnaryOp::square:
      return map1(s, d, n, [](R x) { return V::mul(x, x); });
    case UnaryOp::reciprocal:
      return map1(s, d, n, [one](R x) { return V::div(one, x); });
    case UnaryOp::scale_shift: {
      // x * a + b rounded twice, as the reference (an FMA would round once).
      const R a = V::set1(alpha), b = V::set1(beta);
      return map1(s, d, n, [a, b](R x) { return V::add(V::mul(x, a), b); });
    }
    default:
      __builtin_trap();  // pow: the entry declines it
  }
}

void binary(BinaryOp op, const float* a, const float* b, float* d, int64_t n, Operands ops) {
  const R one = V::set1(1.0f);
  switch (op) {
    case BinaryOp::add:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::add(x, y); });
    case BinaryOp::sub:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::sub(x, y); });
    case BinaryOp::mul:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::mul(x, y); });
    case BinaryOp::div:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::div(x, y); });
    case BinaryOp::maximum:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::max(x, y); });
    case BinaryOp::minimum:
      return map2(a, b, d, n, ops, [](R x, R y) { return V::min(x, y); });
    case BinaryOp::relu_backward:
      return map2(a, b, d, n, ops, [](R g, R x) { return V::keep(V::gt(x, V::zero()), g); });
    case BinaryOp::gelu_backward:
      return map2(a, b, d, n, ops, [](R g, R x) { return V::mul(g, vgelu_grad(x)); });
    case BinaryOp::tanh_backward:
      return map2(a, b, d, n, ops, [one](R g, R y) { return V::mul(g, V::sub(one, V::mul(y, y))); });
    case BinaryOp::sigmoid_backward:
      return map2(a, b, d, n, ops, [one](R g, R y) { return V::mul(V::mul(g, y), V::sub(one, y)); });
    case BinaryOp::greater:
      return map2(a, b, d, n, ops, [one](R x, R y) { return V::keep(V::gt(x, y), one); });
    case BinaryOp::equal:
      return map2(a, b, d, n, ops, [one](R x, R y) { return V::keep(V::eq(x, y), one); });
    default:
      __builtin_trap();
  }
}

// IEEE halves, W at a time; the tail goes through a zero-padded W-lane buffer.
void to_half(const float* s, void* d, int64_t n) {
  char* out = static_cast<char*>(d);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    V::store_half(out + 2 * i, V::load(s + i));
  if (i < n) {
    uint16_t tail[W];
    V::store_half(tail, V::load_tail(s + i, n - i));
    __builtin_memcpy(out + 2 * i, tail, static_cast<size_t>(n - i) * 2);
  }
}

void add_half(const void* s, float* d, int64_t n) {
  const char* in = static_cast<const char*>(s);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    V::store(d + i, V::add(V::load(d + i), V::load_half(in + 2 * i)));
  if (i < n) {
    uint16_t tail[W] = {};
    __builtin_memcpy(tail, in + 2 * i, static_cast<size_t>(n - i) * 2);
    V::store_tail(d + i, V::add(V::load_tail(d + i, n - i), V::load_half(tail)), n - i);
  }
}

// float(byte) / 255, W at a time; the tail through a zero-padded W-byte buffer.
void bytes_to_unit(const uint8_t* s, float* d, int64_t n) {
  const R scale = V::set1(255.0f);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    V::store(d + i, V::div(V::load_bytes(s + i), scale));
  if (i < n) {
    uint8_t tail[W] = {};
    __builtin_memcpy(tail, s + i, static_cast<size_t>(n - i));
    V::store_tail(d + i, V::div(V::load_bytes(tail), scale), n - i);
  }
}

// adam_update_scalar's operations, in its order, W values at a time (no FMAs: the
// ISA files compile with -ffp-contract=off); the tail through masked loads.
void adam_update(float* p, const float* g, float* m, float* v, int64_t n, const AdamStep& c) {
  const R b1 = V::set1(static_cast<float>(c.beta1)), b2 = V::set1(static_cast<float>(c.beta2));
  const R one_b1 = V::set1(static_cast<float>(1.0 - c.beta1)), one_b2 = V::set1(static_cast<float>(1.0 - c.beta2));
  const R l2 = V::set1(static_cast<float>(c.l2)), shrink = V::set1(static_cast<float>(c.shrink));
  const R eps = V::set1(static_cast<float>(c.eps)), step_size = V::set1(static_cast<float>(c.step_size));
  const R inv_bc2_sqrt = V::set1(static_cast<float>(c.inv_bc2_sqrt));
  const bool decay = c.l2 != 0, decoupled = c.shrink != 1.0;
  auto update = [&](R& pi, R gi, R& mi, R& vi) {
    if (decay)
      gi = V::add(gi, V::mul(l2, pi));
    mi = V::add(V::mul(b1, mi), V::mul(one_b1, gi));
    vi = V::add(V::mul(b2, vi), V::mul(V::mul(one_b2, gi), gi));
    if (decoupled)
      pi = V::mul(pi, shrink);
    pi = V::sub(pi, V::div(V::mul(step_size, mi), V::add(V::mul(V::sqrt(vi), inv_bc2_sqrt), eps)));
  };
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    R pi = V::load(p + i), mi = V::load(m + i), vi = V::load(v + i);
    update(pi, V::load(g + i), mi, vi);
    V::store(m + i, mi);
    V::store(v + i, vi);
    V::store(p + i, pi);
  }
  if (i < n) {
    const int64_t k = n - i;
    R pi = V::load_tail(p + i, k), mi = V::load_tail(m + i, k), vi = V::load_tail(v + i, k);
    update(pi, V::load_tail(g + i, k), mi, vi);
    V::store_tail(m + i, mi, k);
    V::store_tail(v + i, vi, k);
    V::store_tail(p + i, pi, k);
  }
}

// Four vector accumulators in a fixed order; the tail goes into the first.
float reduce_run(ReduceOp op, const float* s, int64_t n) {
  if (op == ReduceOp::sum) {
    R a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    int64_t i = 0;
    for (; i + 4 * W <= n; i += 4 * W) {
      a0 = V::add(a0, V::load(s + i));
      a1 = V::add(a1, V::load(s + i + W));
      a2 = V::add(a2, V::load(s + i + 2 * W));
      a3 = V::add(a3, V::load(s + i + 3 * W));
    }
    for (; i + W <= n; i += W)
      a0 = V::add(a0, V::load(s + i));
    if (i < n)
      a1 = V::add(a1, V::load_tail(s + i, n - i));
    return V::hsum(V::add(V::add(a0, a1), V::add(a2, a3)));
  }
  const bool is_max = op == ReduceOp::max;
  const R init = V::set1(is_max ? -__builtin_inff() : __builtin_inff());
  R a0 = init, a1 = init;
  int64_t i = 0;
  // max(v, acc) keeps acc when v is NaN: NaNs are skipped, as the reference does.
  if (is_max) {
    for (; i + 2 * W <= n; i += 2 * W) {
      a0 = V::max(V::load(s + i), a0);
      a1 = V::max(V::load(s + i + W), a1);
    }
    for (; i + W <= n; i += W)
      a0 = V::max(V::load(s + i), a0);
    if (i < n)
      a1 = V::select(V::tail_mask(n - i), V::max(V::load_tail(s + i, n - i), a1), a1);
    return V::hmax(V::max(a0, a1));
  }
  for (; i + 2 * W <= n; i += 2 * W) {
    a0 = V::min(V::load(s + i), a0);
    a1 = V::min(V::load(s + i + W), a1);
  }
  for (; i + W <= n; i += W)
    a0 = V::min(V::load(s + i), a0);
  if (i < n)
    a1 = V::select(V::tail_mask(n - i), V::min(V::load_tail(s + i, n - i), a1), a1);
  return V::hmin(V::min(a0, a1));
}

// d[j] = op over k of s[k * inner + j], j < cols: the same order as the reference
// (k ascending per column), so sums match it bit for bit.
void reduce_cols(ReduceOp op, const float* s, float* d, int64_t r, int64_t inner, int64_t cols) {
  int64_t j = 0;
  const float init = op == ReduceOp::sum ? 0.0f : (op == ReduceOp::max ? -__builtin_inff() : __builtin_inff());
  auto step = [op](R acc, R v) {
    return op == ReduceOp::sum ? V::add(acc, v) : (op == ReduceOp::max ? V::max(v, acc) : V::min(v, acc));
  };
  for (; j + 4 * W <= cols; j += 4 * W) {
    R a0 = V::set1(init), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t k = 0; k < r; ++k) {
      const float* p = s + k * inner + j;
      a0 = step(a0, V::load(p));
      a1 = step(a1, V::load(p + W));
      a2 = step(a2, V::load(p + 2 * W));
      a3 = step(a3, V::load(p + 3 * W));
    }
    V::store(d + j, a0);
    V::store(d + j + W, a1);
    V::store(d + j + 2 * W, a2);
    V::store(d + j + 3 * W, a3);
  }
  for (; j < cols; j += W) {
    const int64_t m = cols - j < W ? cols - j : W;
    R a = V::set1(init);
    for (int64_t k = 0; k < r; ++k)
      a = step(a, V::load_tail(s + k * inner + j, m));
    V::store_tail(d + j, a, m);
  }
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  const float m = reduce_run(ReduceOp::max, x, n);
  const R mv = V::set1(m);
  R acc = V::zero();
  int64_t i = 0;
  if (log) {
    for (; i + W <= n; i += W)
      acc = V::add(acc, vexp(V::sub(V::load(x + i), mv)));
    if (i < n)
      acc = V::add(acc, V::keep(V::tail_mask(n - i), vexp(V::sub(V::load_tail(x + i, n - i), mv))));
    // log of the sum for one lane, through the vector log.
    float lanes[V::W];
    V::store(lanes, vlog(V::set1(V::hsum(acc))));
    const R lse = V::set1(m + lanes[0]);
    map1(x, y, n, [lse](R v) { return V::sub(v, lse); });
    return;
  }
  // y = e^(x - m) first, then scale by 1 / sum: one exp per element.
  for (; i + W <= n; i += W) {
    const R e = vexp(V::sub(V::load(x + i), mv));
    V::store(y + i, e);
    acc = V::add(acc, e);
  }
  if (i < n) {
    const R e = V::keep(V::tail_mask(n - i), vexp(V::sub(V::load_tail(x + i, n - i), mv)));
    V::store_tail(y + i, e, n - i);
    acc = V::add(acc, e);
  }
  const R inv = V::set1(1.0f / V::hsum(acc));
  map1(y, y, n, [inv](R v) { return V::mul(v, inv); });
}

void softmax_backward_row(const float* y, const float* g, float* d, int64_t n, bool log) {
  if (log) {  // dx = g - e^y * sum(g)
    const R sg = V::set1(reduce_run(ReduceOp::sum, g, n));
    map2(y, g, d, n, Operands::vv, [sg](R yv, R gv) { return V::fnmadd(vexp(yv), sg, gv); });
    return;
  }
  // dx = y * (g - sum(g * y))
  const R dot = V::set1(vdot(g, y, n));
  map2(y, g, d, n, Operands::vv, [dot](R yv, R gv) { return V::mul(yv, V::sub(gv, dot)); });
}

template <typename F>
inline void bias_act_loop(const float* bias, float* y, float* pre, int64_t rows, int64_t cols, int64_t ld, F act) {
  for (int64_t i = 0; i < rows; ++i) {
    float* yr = y + i * ld;
    float* pr = pre ? pre + i * ld : nullptr;
    int64_t j = 0;
    for (; j + W <= cols; j += W) {
      R z = V::load(yr + j);
      if (bias)
        z = V::add(z, V::load(bias + j));
      if (pr)
        V::store(pr + j, z);
      V::store(yr + j, act(z));
    }
    if (j < cols) {
      const int64_t m = cols - j;
      R z = V::load_tail(yr + j, m);
      if (bias)
        z = V::add(z, V::load_tail(bias + j, m));
      if (pr)
        V::store_tail(pr + j, z, m);
      V::store_tail(yr + j, act(z), m);
    }
  }
}

void bias_act(Activation act, const float* bias, float* y, float* pre, int64_t rows, int64_t cols, int64_t ld) {
  switch (act) {
    case Activation::relu:
      return bias_act_loop(bias, y, pre, rows, cols, ld, [](R z) { return V::max(z, V::zero()); });
    case Activation::gelu:
      return bias_act_loop(bias, y, pre, rows, cols, ld, [](R z) { return vgelu(z); });
    default:
      return bias_act_loop(bias, y, pre, rows, cols, ld, [](R z) { return z; });
  }
}

// Columns in blocks of W: the block's bias-gradient sums stay in one register
// while the rows stream past, in row order (fixed, so the bits repeat).
template <typename F>
inline void act_backward_loop(const float* gy, const float* saved, float* gz, float* gbias, int64_t rows, int64_t cols,
                              int64_t ld, F grad) {
  // Both orders add each column's rows in order, so they give the same bits.
  if (rows >= 512) {
    // Tall (a transformer's [batch x time, 4 width]): row by row, so every operand
    // streams through memory in order; the column sums stay in gbias, in the cache.
    if (gbias)
      for (int64_t j = 0; j < cols; ++j)
        gbias[j] = 0.0f;
    for (int64_t i = 0; i < rows; ++i) {
      const float* gr = gy + i * ld;
      const float* sr = saved ? saved + i * ld : nullptr;
      float* zr = gz + i * ld;
      for (int64_t j = 0; j < cols; j += W) {
        const int64_t m = cols - j < W ? cols - j : W;
        const R g = m == W ? grad(V::load(gr + j), sr ? V::load(sr + j) : V::zero())
                           : grad(V::load_tail(gr + j, m), sr ? V::load_tail(sr + j, m) : V::zero());
        if (m == W) {
          V::store(zr + j, g);
          if (gbias)
            V::store(gbias + j, V::add(V::load(gbias + j), g));
        } else {
          V::store_tail(zr + j, g, m);
          if (gbias)
            V::store_tail(gbias + j, V::add(V::load_tail(gbias + j, m), g), m);
        }
      }
    }
    return;
  }
  // A batch of rows (an MLP's 64): eight vectors of columns at a time with their
  // sums in registers; each row is eight adjacent cache lines of every operand.
  constexpr int64_t kVecs = 8;
  for (int64_t j0 = 0; j0 < cols; j0 += kVecs * W) {
    R acc[kVecs];
    int64_t width[kVecs];  // lanes of vector k (0 past the columns)
    for (int64_t k = 0; k < kVecs; ++k) {
      acc[k] = V::zero();
      const int64_t left = cols - j0 - k * W;
      width[k] = left <= 0 ? 0 : (left < W ? left : W);
    }
    for (int64_t i = 0; i < rows; ++i) {
      for (int64_t k = 0; k < kVecs; ++k) {
        const int64_t o = i * ld + j0 + k * W, m = width[k];
        if (m == 0)
          break;
        R g;
        if (m == W) {
          g = grad(V::load(gy + o), saved ? V::load(saved + o) : V::zero());
          V::store(gz + o, g);
        } else {
          g = grad(V::load_tail(gy + o, m), saved ? V::load_tail(saved + o, m) : V::zero());
          V::store_tail(gz + o, g, m);
        }
        acc[k] = V::add(acc[k], g);
      }
    }
    if (gbias) {
      for (int64_t k = 0; k < kVecs && width[k] > 0; ++k) {
        if (width[k] == W)
          V::store(gbias + j0 + k * W, acc[k]);
        else
          V::store_tail(gbias + j0 + k * W, acc[k], width[k]);
      }
    }
  }
}

void bias_act_backward(Activation act, const float* gy, const float* saved, float* gz, float* gbias, int64_t rows,
                       int64_t cols, int64_t ld) {
  switch (act) {
    case Activation::relu:
      return act_backward_loop(gy, saved, gz, gbias, rows, cols, ld,
                               [](R g, R y) { return V::keep(V::gt(y, V::zero()), g); });
    case Activation::gelu:
      return act_backward_loop(gy, saved, gz, gbias, rows, cols, ld, [](R g, R z) { return V::mul(g, vgelu_grad(z)); });
    default:
      return act_backward_loop(gy, nullptr, gz, gbias, rows, cols, ld, [](R g, R) { return g; });
  }
}

}  // namespace
}  // namespace loom::kernels::cpu::simd
