// The AVX2 / AVX-512 kernel-list entries: CPU detection, LOOM_ISA, the checks
// behind each entry's decline reason, and the split over threads. The vector code
// itself is in simd_avx2.cpp / simd_avx512.cpp (NOTE [ISA files] in simd_kernels.h).
#include <cpuid.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "cpu/cpu_common.h"
#include "cpu/simd_entries.h"
#include "loom/core/strided.h"
#include "loom/kernels/adam_update.h"
#include "loom/kernels/elementwise.h"
#include "loom/runtime/parallel.h"

namespace loom::kernels::cpu::simd {
namespace {

constexpr int64_t kGrain = 1 << 15;          // elements per task for element-wise work
constexpr int64_t kReduceBlock = 1 << 15;    // a full reduction sums blocks of this many, then the block sums
constexpr int64_t kRowGrainElems = 1 << 13;  // row-wise kernels: rows per task cover at least this many elements

// CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports does not know "f16c").
bool cpu_has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

Isa detect_cpu() {
  __builtin_cpu_init();
  const bool f16c = cpu_has_f16c();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && f16c)
    return Isa::avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c)
    return Isa::avx2;
  return Isa::reference;
}

Isa cpu_isa() {
  static const Isa isa = detect_cpu();
  return isa;
}

Isa env_isa() {
  const char* v = std::getenv("LOOM_ISA");
  if (v == nullptr || *v == '\0' || std::strcmp(v, "auto") == 0)
    return Isa::avx512;
  if (std::strcmp(v, "avx512") == 0)
    return Isa::avx512;
  if (std::strcmp(v, "avx2") == 0)
    return Isa::avx2;
  LOOM_CHECK(std::strcmp(v, "reference") == 0, "LOOM_ISA='", v,
             "' is not an instruction set loom knows; expected avx512, avx2, reference or auto");
  return Isa::reference;
}

// The ceiling set by LOOM_ISA or force_isa (read once; force_isa replaces it).
std::atomic<int> g_ceiling{-1};

Isa ceiling() {
  int c = g_ceiling.load(std::memory_order_relaxed);
  if (c < 0) {
    c = static_cast<int>(env_isa());
    g_ceiling.store(c, std::memory_order_relaxed);
  }
  return static_cast<Isa>(c);
}

}  // namespace

bool cpu_has(Isa isa) { return static_cast<int>(isa) <= static_cast<int>(cpu_isa()); }

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    default:
      return "reference";
  }
}

Isa active_isa() {
  const Isa c = ceiling(), cpu = cpu_isa();
  return static_cast<int>(c) < static_cast<int>(cpu) ? c : cpu;
}

void force_isa(Isa isa) { g_ceiling.store(static_cast<int>(isa), std::memory_order_relaxed); }

Isa isa_ceiling() { return ceiling(); }

const char* declines_isa(Isa isa) {
  if (!cpu_has(isa))
    return isa == Isa::avx512 ? "cpu lacks avx512f/bw/dq/vl or f16c" : "cpu lacks avx2/fma/f16c";
  if (static_cast<int>(ceiling()) < static_cast<int>(isa))
    return ceiling() == Isa::reference ? "LOOM_ISA=reference" : "LOOM_ISA=avx2 selects a lower ISA";
  return "";
}

namespace {

const Table& table(Isa isa) { return isa == Isa::avx512 ? avx512_table() : avx2_table(); }

std::string declines_f32(Isa isa, const Tensor& first) {
  if (const char* why = declines_isa(isa); *why)
    return why;
  if (!first.device().is_cpu())
    return "tensor is on " + first.device().str();
  if (first.dtype() != DType::f32)
    return std::string("dtype ") + dtype_name(first.dtype()) + " (the SIMD entries are f32 only)";
  return "";
}

template <typename... Ts>
std::string declines_f32(Isa isa, const Tensor& first, const Ts&... rest) {
  std::string why = declines_f32(isa, first);
  if (!why.empty())
    return why;
  ((why.empty() && rest.defined() && (rest.dtype() != DType::f32 || !rest.device().is_cpu())
        ? why = "mixed dtypes or devices"
        : why),
   ...);
  return why;
}

const float* cf(const Tensor& t) { return static_cast<const float*>(t.raw_data()); }
float* mf(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

// A run of a binary op: element offsets and the pattern of its operands.
struct Run {
  int64_t d, a, b, n;
  Operands ops;
};

// Splits dst into runs whose inner strides are 0 or 1 (a broadcast bias row, a
// scalar); false when some operand steps by another stride there.
bool binary_runs(const Tensor& a, const Tensor& b, const Tensor& dst, std::vector<Run>* out) {
  StridedRuns<3> runs(dst.shape(), {dst.strides(), a.strides(), b.strides()});
  const int64_t nd = static_cast<int64_t>(runs.shape.size());
  const int64_t sd = runs.strides[0][nd - 1], sa = runs.strides[1][nd - 1], sb = runs.strides[2][nd - 1];
  const int64_t inner = runs.shape[nd - 1];
  if (inner > 1 && (sd != 1 || (sa != 1 && sa != 0) || (sb != 1 && sb != 0) || (sa == 0 && sb == 0)))
    return false;
  if (out) {
    const Operands ops = inner == 1 || (sa == 1 && sb == 1) ? Operands::vv : (sb == 0 ? Operands::vs : Operands::sv);
    runs.for_each([&](const std::array<int64_t, 3>& o, int64_t n, const std::array<int64_t, 3>&) {
      out->push_back({o[0], o[1], o[2], n, ops});
    });
  }
  return true;
}

}  // namespace

const Table* active_table() {
  const Isa isa = active_isa();
  if (isa == Isa::reference)
    return nullptr;
  return &table(isa);
}

// ---- element-wise ----------------------------------------------------------------

std::string unary_declines(Isa isa, UnaryOp op, const Tensor& src, const Tensor& dst) {
  std::string why = declines_f32(isa, dst, src);
  if (!why.empty())
    return why;
  if (op == UnaryOp::pow)
    return "pow is not vectorised";
  if (!src.is_contiguous() || !dst.is_contiguous())
    return "non-contiguous";
  return "";
}

void unary_run(Isa isa, UnaryOp op, const Tensor& src, const Tensor& dst, double alpha, double beta) {
  const Table& t = table(isa);
  const float* s = cf(src);
  float* d = mf(dst);
  const float a = static_cast<float>(alpha), b = static_cast<float>(beta);
  runtime::parallel_for(0, dst.numel(), kGrain,
                        [&](int64_t lo, int64_t hi) { t.unary(op, s + lo, d + lo, hi - lo, a, b); });
}

std::string binary_declines(Isa isa, const Tensor& a, const Tensor& b, const Tensor& dst) {
  std::string why = declines_f32(isa, dst, a, b);
  if (!why.empty())
    return why;
  if (!dst.is_contiguous())
    return "non-contiguous destination";
  if (a.is_contiguous() && b.is_contiguous())
    return "";
  return binary_runs(a, b, dst, nullptr) ? "" : "an operand's innermost stride is neither 0 nor 1";
}

void binary_run(Isa isa, BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& dst) {
  const Table& t = table(isa);
  const float* pa = cf(a);
  const float* pb = cf(b);
  float* d = mf(dst);
  if (a.is_contiguous() && b.is_contiguous()) {
    runtime::parallel_for(0, dst.numel(), kGrain, [&](int64_t lo, int64_t hi) {
      t.binary(op, pa + lo, pb + lo, d + lo, hi - lo, Operands::vv);
    });
    return;
  }
  std::vector<Run> runs;
  binary_runs(a, b, dst, &runs);
  if (runs.empty())
    return;
  const int64_t n = runs[0].n;  // every run has the same length
  auto one = [&](const Run& r, int64_t lo, int64_t hi) {
    t.binary(op, pa + r.a + (r.ops == Operands::sv ? 0 : lo), pb + r.b + (r.ops == Operands::vs ? 0 : lo), d + r.d + lo,
             hi - lo, r.ops);
  };
  if (runs.size() == 1) {  // a scalar operand: split the one run
    runtime::parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) { one(runs[0], lo, hi); });
    return;
  }
  runtime::parallel_for(0, static_cast<int64_t>(runs.size()), std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)),
                        [&](int64_t lo, int64_t hi) {
                          for (int64_t i = lo; i < hi; ++i)
                            one(runs[i], 0, n);
                        });
}

// ---- reductions --------------------------------------------------------------------

std::string reduce_declines(Isa isa, ReduceOp op, const Tensor& src, const Tensor& dst, int64_t r) {
  if (op == ReduceOp::argmax)
    return "argmax is not vectorised";
  std::string why = declines_f32(isa, src, dst);
  if (!why.empty())
    return why;
  if (r == 0)
    return "empty reduction axis";
  if (!src.is_contiguous() || !dst.is_contiguous())
    return "non-contiguous";
  return "";
}

// NOTE [Deterministic reductions]
// Every output element is reduced by one thread in an order fixed by the shape
// alone, never by the thread count: rows and column blocks go to threads whole,
// and a full reduction sums fixed blocks of kReduceBlock elements (in parallel)
// and then adds the block sums in order. So the bits repeat at every thread count.
void reduce_run(Isa isa, ReduceOp op, const Tensor& src, const Tensor& dst, int64_t outer, int64_t r, int64_t inner) {
  const Table& t = table(isa);
  const float* s = cf(src);
  float* d = mf(dst);
  if (inner == 1) {
    if (outer == 1 && r > kReduceBlock) {
      const int64_t blocks = (r + kReduceBlock - 1) / kReduceBlock;
      std::vector<float> part(blocks);
      runtime::parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const int64_t b = i * kReduceBlock;
          part[i] = t.reduce_run(op, s + b, std::min(kReduceBlock, r - b));
        }
      });
      *d = t.reduce_run(op, part.data(), blocks);
      return;
    }
    runtime::parallel_for(0, outer, std::max<int64_t>(1, kRowGrainElems / r), [&](int64_t lo, int64_t hi) {
      for (int64_t o = lo; o < hi; ++o)
        d[o] = t.reduce_run(op, s + o * r, r);
    });
    return;
  }
  // Reduce the middle axis: column blocks of 64 go to threads whole.
  constexpr int64_t kCols = 64;
  const int64_t col_blocks = (inner + kCols - 1) / kCols, tasks = outer * col_blocks;
  runtime::parallel_for(
      0, tasks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, r * kCols)), [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const int64_t o = i / col_blocks, j = (i % col_blocks) * kCols;
          t.reduce_cols(op, s + o * r * inner + j, d + o * inner + j, r, inner, std::min(kCols, inner - j));
        }
      });
}

// ---- softmax -----------------------------------------------------------------------

std::string softmax_declines(Isa isa, const Tensor& a, const Tensor& b, const Tensor& c) {
  std::string why = c.defined() ? declines_f32(isa, a, b, c) : declines_f32(isa, a, b);
  if (!why.empty())
    return why;
  if (!a.is_contiguous() || !b.is_contiguous() || (c.defined() && !c.is_contiguous()))
    return "non-contiguous";
  if (a.dim() > 0 && a.size(-1) == 0)
    return "empty rows";
  return "";
}

void softmax_forward_run(Isa isa, const Tensor& src, const Tensor& dst, bool log) {
  const Table& t = table(isa);
  const int64_t cols = src.dim() == 0 ? 1 : src.size(-1), rows = src.numel() / cols;
  const float* s = cf(src);
  float* d = mf(dst);
  runtime::parallel_for(0, rows, std::max<int64_t>(1, kRowGrainElems / cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      t.softmax_row(s + r * cols, d + r * cols, cols, log);
  });
}

void softmax_backward_run(Isa isa, const Tensor& y, const Tensor& gy, const Tensor& gx, bool log) {
  const Table& t = table(isa);
  const int64_t cols = y.dim() == 0 ? 1 : y.size(-1), rows = y.numel() / cols;
  const float* ys = cf(y);
  const float* gs = cf(gy);
  float* d = mf(gx);
  runtime::parallel_for(0, rows, std::max<int64_t>(1, kRowGrainElems / cols), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      t.softmax_backward_row(ys + r * cols, gs + r * cols, d + r * cols, cols, log);
  });
}

// ---- fused bias + activation --------------------------------------------------------

std::string bias_act_declines(Isa isa, const Tensor& bias, const Tensor& y, const Tensor& pre) {
  std::string why = declines_f32(isa, y, bias, pre);
  if (!why.empty())
    return why;
  if (!y.is_contiguous() || (pre.defined() && !pre.is_contiguous()) || (bias.defined() && !bias.is_contiguous()))
    return "non-contiguous";
  return "";
}

void bias_act_run(Isa isa, Activation act, const Tensor& bias, const Tensor& y, const Tensor& pre) {
  const Table& t = table(isa);
  const int64_t cols = y.size(-1), rows = y.numel() / std::max<int64_t>(cols, 1);
  const float* b = bias.defined() ? cf(bias) : nullptr;
  float* yp = mf(y);
  float* pp = pre.defined() ? mf(pre) : nullptr;
  runtime::parallel_for(0, rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)),
                        [&](int64_t lo, int64_t hi) {
                          t.bias_act(act, b, yp + lo * cols, pp ? pp + lo * cols : nullptr, hi - lo, cols, cols);
                        });
}

std::string bias_act_backward_declines(Isa isa, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                                       const Tensor& gbias) {
  std::string why = declines_f32(isa, gy, saved, gz, gbias);
  if (!why.empty())
    return why;
  if (!gy.is_contiguous() || !gz.is_contiguous() || (saved.defined() && !saved.is_contiguous()) ||
      (gbias.defined() && !gbias.is_contiguous()))
    return "non-contiguous";
  return "";
}

// Column blocks go to threads whole, so each bias-gradient sum runs down its
// column in row order on one thread (NOTE [Deterministic reductions]).
void bias_act_backward_run(Isa isa, Activation act, const Tensor& gy, const Tensor& saved, const Tensor& gz,
                           const Tensor& gbias) {
  const Table& t = table(isa);
  const int64_t cols = gy.size(-1), rows = gy.numel() / std::max<int64_t>(cols, 1);
  constexpr int64_t kCols = 64;
  const int64_t blocks = (cols + kCols - 1) / kCols;
  const float* g = cf(gy);
  const float* sv = saved.defined() && act != Activation::none ? cf(saved) : nullptr;
  float* z = mf(gz);
  float* gb = gbias.defined() ? mf(gbias) : nullptr;
  runtime::parallel_for(
      0, blocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, rows * kCols)), [&](int64_t lo, int64_t hi) {
        const int64_t j0 = lo * kCols, j1 = std::min(cols, hi * kCols);
        t.bias_act_backward(act, g + j0, sv ? sv + j0 : nullptr, z + j0, gb ? gb + j0 : nullptr, rows, j1 - j0, cols);
      });
}

// ---- layer norm --------------------------------------------------------------------

std::string layer_norm_declines(Isa isa, const Tensor& x, const Tensor& gamma, const Tensor& beta) {
  return declines_f32(isa, x, gamma, beta);
}

void layer_norm_forward_run(Isa isa, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd, double eps) {
  const Table& t = table(isa);
  const int64_t n = x.size(-1), rows = x.numel() / std::max<int64_t>(n, 1);
  const float* g = gamma.defined() ? cf(gamma) : nullptr;
  const float* b = beta.defined() ? cf(beta) : nullptr;
  runtime::parallel_for(0, rows, std::max<int64_t>(1, kRowGrainElems / std::max<int64_t>(n, 1)),
                        [&](int64_t lo, int64_t hi) {
                          t.layer_norm_rows(cf(x) + lo * n, g, b, mf(y) + lo * n, mf(mean) + lo, mf(rstd) + lo, hi - lo,
                                            n, static_cast<float>(eps));
                        });
}

// Blocks of kLayerNormBlock rows each sum their share of dgamma and dbeta apart;
// the blocks are added in order, so the bits do not depend on the thread count.
void layer_norm_backward_run(Isa isa, const LayerNormGrads& g) {
  constexpr int64_t kLayerNormBlock = 32;
  const Table& t = table(isa);
  const int64_t n = g.x.size(-1), rows = g.x.numel() / std::max<int64_t>(n, 1);
  const int64_t blocks = (rows + kLayerNormBlock - 1) / kLayerNormBlock;
  const bool sums = g.dgamma.defined() || g.dbeta.defined();
  std::vector<float> partial(sums ? static_cast<size_t>(blocks * 2 * n) : 0, 0.0f);
  const float* gamma = g.gamma.defined() ? cf(g.gamma) : nullptr;
  runtime::parallel_for(0, blocks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t blk = lo; blk < hi; ++blk) {
      const int64_t r0 = blk * kLayerNormBlock, r1 = std::min(rows, r0 + kLayerNormBlock);
      float* pg = sums ? partial.data() + blk * 2 * n : nullptr;
      t.layer_norm_backward_rows(cf(g.dy) + r0 * n, cf(g.x) + r0 * n, gamma, cf(g.mean) + r0, cf(g.rstd) + r0,
                                 mf(g.dx) + r0 * n, pg, pg ? pg + n : nullptr, r1 - r0, n);
    }
  });
  if (!sums)
    return;
  sum_row_blocks(partial.data(), blocks, n, g.dgamma.defined() ? mf(g.dgamma) : nullptr,
                 g.dbeta.defined() ? mf(g.dbeta) : nullptr);
}

// ---- fused attention -------------------------------------------------------------

std::string attention_declines(Isa isa, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  return declines_f32(isa, q, k, v, mask);
}

namespace {

// Row steps of a [b, h, rows, cols] tensor and its (bi, hi) head.
struct HeadView {
  const Tensor& t;
  float* at(int64_t bi, int64_t hi) const {
    return static_cast<float*>(t.raw_data()) + bi * t.strides()[0] + hi * t.strides()[1];
  }
  int64_t ld() const { return t.strides()[2]; }
};

int64_t padded_keys(int64_t s) { return (s + kAttentionCols - 1) / kAttentionCols * kAttentionCols; }

// Each (batch, head) is one task, so every sum runs in one fixed order.
template <typename Fill>
void for_each_head(const AttentionShape& a, int64_t scratch_floats, Fill&& fill) {
  runtime::parallel_for(0, a.b * a.h, 1, [&](int64_t lo, int64_t hi) {
    std::vector<float> scratch(static_cast<size_t>(scratch_floats));
    for (int64_t bh = lo; bh < hi; ++bh) {
      AttentionHead head;
      head.t = a.t;
      head.s = a.s;
      head.d = a.d;
      head.dv = a.dv;
      head.causal = a.causal;
      head.scale = static_cast<float>(a.scale);
      head.scratch = scratch.data();
      fill(bh / a.h, bh % a.h, head);
    }
  });
}

void set_inputs(AttentionHead& h, int64_t bi, int64_t hi, const Tensor& q, const Tensor& k, const Tensor& v,
                const Tensor& mask) {
  h.q = HeadView{q}.at(bi, hi);
  h.q_ld = q.strides()[2];
  h.k = HeadView{k}.at(bi, hi);
  h.k_ld = k.strides()[2];
  h.v = HeadView{v}.at(bi, hi);
  h.v_ld = v.strides()[2];
  if (mask.defined()) {
    h.mask = HeadView{mask}.at(bi, hi);
    h.mask_ld = mask.strides()[2];
    h.mask_col = mask.strides()[3];
  }
}

}  // namespace

void attention_forward_run(Isa isa, const AttentionShape& a, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor& mask, const Tensor& out, const Tensor& lse) {
  const Table& t = table(isa);
  const int64_t scratch = a.d * padded_keys(a.s) + kAttentionRows * (kAttentionCols + a.dv);
  for_each_head(a, scratch, [&](int64_t bi, int64_t hi, AttentionHead& h) {
    set_inputs(h, bi, hi, q, k, v, mask);
    h.out = HeadView{out}.at(bi, hi);
    h.out_ld = out.strides()[2];
    h.lse = mf(lse) + (bi * a.h + hi) * a.t;
    t.attention_forward(h);
  });
}

void attention_backward_run(Isa isa, const AttentionShape& a, const AttentionGrads& g) {
  const Table& t = table(isa);
  const int64_t scratch = (a.d + a.dv) * padded_keys(a.s) + 2 * kAttentionRows * kAttentionCols;
  for_each_head(a, scratch, [&](int64_t bi, int64_t hi, AttentionHead& h) {
    set_inputs(h, bi, hi, g.q, g.k, g.v, g.mask);
    h.out = HeadView{g.out}.at(bi, hi);
    h.out_ld = g.out.strides()[2];
    h.lse = mf(g.lse) + (bi * a.h + hi) * a.t;
    h.grad_out = HeadView{g.grad_out}.at(bi, hi);
    h.grad_out_ld = g.grad_out.strides()[2];
    h.grad_q = HeadView{g.grad_q}.at(bi, hi);
    h.grad_q_ld = g.grad_q.strides()[2];
    h.grad_k = HeadView{g.grad_k}.at(bi, hi);
    h.grad_k_ld = g.grad_k.strides()[2];
    h.grad_v = HeadView{g.grad_v}.at(bi, hi);
    h.grad_v_ld = g.grad_v.strides()[2];
    t.attention_backward(h);
  });
}

// ---- max pooling --------------------------------------------------------------------

std::string max_pool_declines(Isa isa, const Window2d& g, const Tensor& x, const Tensor& y) {
  std::string why = declines_f32(isa, x, y);
  if (!why.empty())
    return why;
  if (g.kh != 2 || g.kw != 2 || g.sh != 2 || g.sw != 2 || g.ph != 0 || g.pw != 0)
    return "a window other than 2x2 at stride 2 without padding";
  if (g.h * g.w >= (int64_t{1} << 24))
    return "planes of 2^24 or more elements (indices are computed in floats)";
  return "";
}

void max_pool_forward_run(Isa isa, const Window2d& g, const Tensor& x, const Tensor& y, const Tensor& argmax) {
  const Table& t = table(isa);
  const int64_t plane = g.h * g.w, out_plane = g.oh * g.ow;
  int32_t* idx = argmax.defined() ? static_cast<int32_t*>(argmax.raw_data()) : nullptr;
  runtime::parallel_for(0, g.n * g.c, std::max<int64_t>(1, kRowGrainElems / std::max<int64_t>(plane, 1)),
                        [&](int64_t lo, int64_t hi) {
                          t.max_pool_2x2(cf(x) + lo * plane, mf(y) + lo * out_plane,
                                         idx ? idx + lo * out_plane : nullptr, hi - lo, g.h, g.w, g.oh, g.ow);
                        });
}

}  // namespace loom::kernels::cpu::simd

namespace loom::kernels {

void adam_update_f32(float* p, const float* g, float* m, float* v, int64_t n, const AdamStep& c) {
  if (const cpu::simd::Table* t = cpu::simd::active_table()) {
    t->adam_update(p, g, m, v, n, c);
    return;
  }
  adam_update_scalar<float>(p, g, m, v, 0, n, c);
}

void bytes_to_unit_f32(const uint8_t* src, float* dst, int64_t n) {
  if (const cpu::simd::Table* t = cpu::simd::active_table()) {
    t->bytes_to_unit(src, dst, n);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    dst[i] = static_cast<float>(src[i]) / 255.0f;
}

void add_into_f32(float* dst, const float* src, int64_t n) {
  if (const cpu::simd::Table* t = cpu::simd::active_table()) {
    t->binary(BinaryOp::add, dst, src, dst, n, cpu::simd::Operands::vv);
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    dst[i] += src[i];
}

}  // namespace loom::kernels
