#pragma once
// NOTE [ISA files]
// The AVX2 and AVX-512 kernels live in files named *_avx2.cpp / *_avx512.cpp, which
// CMake compiles with -mavx2 -mfma -mf16c, plus -mavx512f -mavx512bw -mavx512dq -mavx512vl
// for the AVX-512 ones.
// Such a file must not instantiate any inline function it shares with the rest of
// the program (std::, Tensor, ...): the linker keeps one copy of each, and if it
// kept the AVX-512 one, every caller would fault on a CPU without AVX-512. So the
// ISA files include only this header (plain pointers and enums) and simd_impl.h,
// keep everything in an anonymous namespace, and export one function table each.
// simd_entries.cpp (built for baseline x86-64) checks the CPU at run time
// (__builtin_cpu_supports), honours LOOM_ISA, splits the work over threads and
// calls through the table.
#include <cstdint>

#include "loom/kernels/adam_update.h"
#include "loom/kernels/op_codes.h"

namespace loom::kernels::cpu::simd {

enum class Isa : uint8_t { reference, avx2, avx512 };

// How a binary run's operands step: both, only a (b is one value), only b.
enum class Operands : uint8_t { vv, vs, sv };

// One (batch, head) of fused attention (loom/kernels/attention.h), as plain
// pointers: rows of q, k, v, out and the gradients are `*_ld` floats apart with
// contiguous columns; the mask (or nullptr) is [t, s] with steps mask_ld, mask_col.
// `scratch` holds attention_scratch_floats() floats (simd_entries.cpp).
struct AttentionHead {
  int64_t t = 0, s = 0, d = 0, dv = 0;
  bool causal = false;
  float scale = 1;
  const float *q = nullptr, *k = nullptr, *v = nullptr, *mask = nullptr;
  int64_t q_ld = 0, k_ld = 0, v_ld = 0, mask_ld = 0, mask_col = 0;
  float* out = nullptr;  // forward writes, backward reads
  int64_t out_ld = 0;
  float* lse = nullptr;  // [t], contiguous
  // backward only
  const float* grad_out = nullptr;
  int64_t grad_out_ld = 0;
  float *grad_q = nullptr, *grad_k = nullptr, *grad_v = nullptr;
  int64_t grad_q_ld = 0, grad_k_ld = 0, grad_v_ld = 0;
  float* scratch = nullptr;
};
// The tile sizes the attention kernels use, for sizing their scratch.
constexpr int64_t kAttentionRows = 4, kAttentionCols = 64;

struct Table {
  const char* name;
  // d[i] = op(s[i]) for i < n (UnaryOp::pow is not provided).
  void (*unary)(UnaryOp op, const float* s, float* d, int64_t n, float alpha, float beta);
  // d[i] = op(a[i], b[i]), with a or b a single value per `operands`.
  void (*binary)(BinaryOp op, const float* a, const float* b, float* d, int64_t n, Operands operands);
  // sum / max / min of s[0..n) (n >= 1 for max and min). Fixed order: the same bits every run.
  float (*reduce_run)(ReduceOp op, const float* s, int64_t n);
  // d[j] = op over k < r of s[k * inner + j], for j < cols (the rest of `inner` is another call's).
  void (*reduce_cols)(ReduceOp op, const float* s, float* d, int64_t r, int64_t inner, int64_t cols);
  // One row of softmax / log_softmax and its backward (y is the forward's output).
  void (*softmax_row)(const float* x, float* y, int64_t n, bool log);
  void (*softmax_backward_row)(const float* y, const float* g, float* d, int64_t n, bool log);
  // Rows [0, rows) of a [rows, ld] matrix, columns [0, cols): z = y + bias; pre = z; y = act(z).
  void (*bias_act)(Activation act, const float* bias, float* y, float* pre, int64_t rows, int64_t cols, int64_t ld);
  // gz = gy * act'(saved) and gbias[j] = sum over rows of gz[:, j] (when gbias is set), same layout.
  void (*bias_act_backward)(Activation act, const float* gy, const float* saved, float* gz, float* gbias, int64_t rows,
                            int64_t cols, int64_t ld);
  // One image of a stride-1 convolution from a zero-padded input copy xp (c planes of
  // rows x row floats). See simd_conv_impl.h.
  void (*conv_small_forward)(const float* xp, int64_t c, int64_t rows, int64_t row, const float* w, const float* bias,
                             float* y, int64_t oc, int64_t oh, int64_t ow, int64_t kh, int64_t kw);
  // IEEE binary16 (F16C): d = half(s), and d[i] += float(half s[i]); halves at any alignment.
  void (*to_half)(const float* s, void* d, int64_t n);
  void (*add_half)(const void* s, float* d, int64_t n);
  // d[i] = float(s[i]) / 255 (exactly: an IEEE division).
  void (*bytes_to_unit)(const uint8_t* s, float* d, int64_t n);
  // adam_update_scalar<float> over [0, n) (loom/kernels/adam_update.h), bit for bit.
  void (*adam_update)(float* p, const float* g, float* m, float* v, int64_t n, const AdamStep& c);
  // Fused attention over one head: forward writes out and lse; backward overwrites
  // grad_q, grad_k and grad_v.
  void (*attention_forward)(const AttentionHead& a);
  void (*attention_backward)(const AttentionHead& a);
  // Layer norm over rows of n floats (loom/kernels/nn_kernels.h); gamma, beta may be
  // null. The backward adds each row's dy * xhat and dy into pg and pb (when set).
  void (*layer_norm_rows)(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                          int64_t rows, int64_t n, float eps);
  void (*layer_norm_backward_rows)(const float* dy, const float* x, const float* gamma, const float* mean,
                                   const float* rstd, float* dx, float* pg, float* pb, int64_t rows, int64_t n);
  // 2x2 max pooling at stride 2, no padding, of `planes` planes h x w into oh x ow;
  // argmax (when set) gets each winner's flat index into its plane (h * w < 2^24).
  void (*max_pool_2x2)(const float* x, float* y, int32_t* argmax, int64_t planes, int64_t h, int64_t w, int64_t oh,
                       int64_t ow);
};

const Table& avx2_table();
const Table& avx512_table();
// The table of active_isa(), or nullptr when that is the reference (no SIMD).
const Table* active_table();

// The ISA the SIMD entries may use: the best the CPU has, lowered by LOOM_ISA
// (avx512, avx2 or reference) or by force_isa.
Isa active_isa();
bool cpu_has(Isa isa);
const char* isa_name(Isa isa);
// For tests and benchmarks: select an ISA as LOOM_ISA would (the CPU must have it).
void force_isa(Isa isa);
// The selection LOOM_ISA or the last force_isa made (avx512 when neither did), so a
// test can put back what it found.
Isa isa_ceiling();
// "" when the entry for `isa` may run on this CPU under the current selection.
const char* declines_isa(Isa isa);

}  // namespace loom::kernels::cpu::simd
