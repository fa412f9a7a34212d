// scaled_dot_product_attention: one fused op, forward and backward.
//
// NOTE [Fused attention]
// softmax(q k^T * scale + mask) v is computed without the [queries, keys] score
// matrix: the kernels walk the keys in tiles and keep, per query row, a running
// maximum, sum and output (flash-attention's online softmax), then save only the
// output and each row's log-sum-exp. The backward recomputes the probabilities of
// a tile from q, k and that log-sum-exp. Memory grows with the sequence length,
// not its square, and the op records one autograd node instead of seven.
// Layout: q [b, h, t, d], k [b, h, s, d], v [b, h, s, dv], any strides with a
// contiguous last axis (so the heads of one [b, t, 3, h, d] projection are views,
// not copies). The output is [b, h, t, dv] laid out as [b, t, h, dv] in memory, so
// that merging the heads back (transpose(1, 2) then reshape) copies nothing.
// `causal` aligns at the bottom right (loom/kernels/attention.h): query i sees keys
// j <= i + s - t, which for t = s is PyTorch's is_causal and for a query appended
// to a key cache is what that row saw in the full pass.
#include <cmath>
#include <limits>

#include "loom/kernels/attention.h"
#include "ops/op_util.h"

namespace loom {
using namespace ops_detail;

namespace {

struct AttentionAttrs {
  bool causal = false;
  double scale = 0.0;  // 0: 1 / sqrt(d)
  template <typename V>
  void fields(V&& v) {
    v("causal", causal);
    v("scale", scale);
  }
};

TensorMeta attention_meta(OpId, const Metas& in, const AttentionAttrs& a) {
  const char* op = "scaled_dot_product_attention";
  const TensorMeta &q = in[0], &k = in[1], &v = in[2];
  check_float_meta(q, op);
  check_float_meta(k, op);
  check_float_meta(v, op);
  check_same_dtype_meta(q, k, op);
  check_same_dtype_meta(q, v, op);
  LOOM_CHECK(q.shape.size() == 4 && k.shape.size() == 4 && v.shape.size() == 4, op,
             ": expected q, k and v as [batch, heads, length, head_dim], got ", shape_str(q.shape), ", ",
             shape_str(k.shape), " and ", shape_str(v.shape));
  LOOM_CHECK(
      k.shape[0] == q.shape[0] && v.shape[0] == q.shape[0] && k.shape[1] == q.shape[1] && v.shape[1] == q.shape[1], op,
      ": batch and heads differ between q ", shape_str(q.shape), ", k ", shape_str(k.shape), " and v ",
      shape_str(v.shape));
  LOOM_CHECK(k.shape[3] == q.shape[3], op, ": q and k head sizes differ (", q.shape[3], " vs ", k.shape[3], ")");
  LOOM_CHECK(v.shape[2] == k.shape[2], op, ": k has ", k.shape[2], " keys but v has ", v.shape[2], " values");
  LOOM_CHECK(a.scale >= 0 && std::isfinite(a.scale), op, ": scale must be finite and >= 0 (0 for 1/sqrt(d)), got ",
             a.scale);
  if (in.size() > 3 && in[3].defined) {
    const TensorMeta& mask = in[3];
    check_same_dtype_meta(q, mask, op);
    const Shape want{q.shape[0], q.shape[1], q.shape[2], k.shape[2]};
    const size_t r = mask.shape.size();
    bool ok = r >= 2 && r <= 4;
    for (size_t i = 0; ok && i < r; ++i) {
      const int64_t m = mask.shape[r - 1 - i], w = want[3 - i];
      ok = m == w || m == 1;
    }
    LOOM_CHECK(ok, op, ": the mask's shape ", shape_str(mask.shape), " does not broadcast to [batch, heads, ",
               "queries, keys] = ", shape_str(want));
  }
  return {{q.shape[0], q.shape[1], q.shape[2], v.shape[3]}, q.dtype};
}

// Last axis contiguous; anything else is taken as it is.
Tensor with_unit_last_stride(const Tensor& x) { return x.strides().back() == 1 ? x : x.contiguous(); }

// A [b, h, rows, cols] tensor stored as [b, rows, h, cols].
Tensor heads_interleaved(int64_t b, int64_t h, int64_t rows, int64_t cols, DType dtype, Device device) {
  Tensor t = Tensor::empty({b, rows, h, cols}, dtype, device);
  return t.as_strided({b, h, rows, cols}, {rows * h * cols, cols, h * cols, 1}, t.offset());
}

// The mask as a [b, h, t, s] view (stride 0 on broadcast axes).
Tensor mask_view(const Tensor& mask, const Shape& want) {
  if (!mask.defined())
    return mask;
  Shape strides(4, 0);
  const int64_t r = mask.dim();
  for (int64_t i = 0; i < r; ++i)
    strides[4 - r + i] = mask.size(i) == 1 ? 0 : mask.strides()[i];
  return mask.as_strided(want, strides, mask.offset());
}

OpOutput attention_forward(OpId id, const Inputs& in, const AttentionAttrs& a) {
  const TensorMeta meta = attention_meta(id, metas_of(in), a);
  const Tensor q = with_unit_last_stride(in[0]), k = with_unit_last_stride(in[1]), v = with_unit_last_stride(in[2]);
  kernels::AttentionShape shape;
  shape.b = q.size(0);
  shape.h = q.size(1);
  shape.t = q.size(2);
  shape.s = k.size(2);
  shape.d = q.size(3);
  shape.dv = v.size(3);
  shape.causal = a.causal;
  shape.scale = a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(shape.d, 1)));
  const Tensor mask = in.size() > 3 && in[3].defined()
                          ? mask_view(with_unit_last_stride(in[3]), {shape.b, shape.h, shape.t, shape.s})
                          : Tensor();
  Tensor out = heads_interleaved(shape.b, shape.h, shape.t, shape.dv, meta.dtype, q.device());
  Tensor lse = Tensor::empty({shape.b, shape.h, shape.t}, meta.dtype, q.device());
  if (out.numel() > 0)
    kernels::attention_forward_kernels()(shape, q, k, v, mask, out, lse);
  return {out, [shape, q, k, v, mask, saved = out.detach(), lse](const Tensor& g) {
            auto grad_of = [&](int64_t rows, int64_t cols) {
              return heads_interleaved(shape.b, shape.h, rows, cols, q.dtype(), q.device());
            };
            const kernels::AttentionGrads grads{q,
                                                k,
                                                v,
                                                mask,
                                                saved,
                                                lse,
                                                with_unit_last_stride(g),
                                                grad_of(shape.t, shape.d),
                                                grad_of(shape.s, shape.d),
                                                grad_of(shape.s, shape.dv)};
            if (grads.grad_k.numel() > 0 || grads.grad_v.numel() > 0 || grads.grad_q.numel() > 0)
              kernels::attention_backward_kernels()(shape, grads);
            return std::vector<Tensor>{grads.grad_q, grads.grad_k, grads.grad_v, Tensor()};
          }};
}

// qkv_attention: the heads of one [b, t, 3 w] projection (q, k, v in that order,
// each w = heads * d wide) attend, and the result comes back as [b, t, w] with the
// heads merged. The q, k and v heads are strided views of the input and its
// gradient is written in place into one [b, t, 3 w] tensor, so a transformer block
// neither splits nor merges anything in memory (NOTE [Fused attention]).
struct QkvAttentionAttrs {
  int64_t heads = 1;
  bool causal = true;
  double scale = 0.0;
  template <typename V>
  void fields(V&& v) {
    v("heads", heads);
    v("causal", causal);
    v("scale", scale);
  }
};

TensorMeta qkv_attention_meta(OpId, const Metas& in, const QkvAttentionAttrs& a) {
  const char* op = "qkv_attention";
  const TensorMeta& x = in[0];
  check_float_meta(x, op);
  LOOM_CHECK(x.shape.size() == 3 && x.shape[2] % 3 == 0, op, ": expected a [batch, time, 3 * width] projection, got ",
             shape_str(x.shape));
  const int64_t w = x.shape[2] / 3;
  LOOM_CHECK(a.heads > 0 && w % a.heads == 0, op, ": width ", w, " is not a multiple of ", a.heads, " heads");
  LOOM_CHECK(a.scale >= 0 && std::isfinite(a.scale), op, ": scale must be finite and >= 0, got ", a.scale);
  return {{x.shape[0], x.shape[1], w}, x.dtype};
}

OpOutput qkv_attention_forward(OpId id, const Inputs& in, const QkvAttentionAttrs& a) {
  const TensorMeta meta = qkv_attention_meta(id, metas_of(in), a);
  const Tensor x = in[0].contiguous();
  const int64_t b = x.size(0), t = x.size(1), w = meta.shape[2], h = a.heads, d = w / h;
  // Head views of a [b, t, parts * w] buffer: part p of head j at column p * w + j * d.
  auto heads_of = [b, t, w, h, d](const Tensor& buffer, int64_t part, int64_t parts) {  // kept by the backward
    return buffer.as_strided({b, h, t, d}, {t * parts * w, d, parts * w, 1}, buffer.offset() + part * w);
  };
  kernels::AttentionShape shape{b, h, t,        t,
                                d, d, a.causal, a.scale > 0 ? a.scale : 1.0 / std::sqrt(static_cast<double>(d))};
  Tensor out = Tensor::empty({b, t, w}, x.dtype(), x.device());
  Tensor lse = Tensor::empty({b, h, t}, x.dtype(), x.device());
  const Tensor q = heads_of(x, 0, 3), k = heads_of(x, 1, 3), v = heads_of(x, 2, 3), o = heads_of(out, 0, 1);
  if (out.numel() > 0)
    kernels::attention_forward_kernels()(shape, q, k, v, Tensor(), o, lse);
  return {out, [shape, x, q, k, v, saved = o.detach(), lse, heads_of](const Tensor& g) {
            Tensor gx = Tensor::empty(x.shape(), x.dtype(), x.device());
            const kernels::AttentionGrads grads{q,
                                                k,
                                                v,
                                                Tensor(),
                                                saved,
                                                lse,
                                                heads_of(g.contiguous(), 0, 1),
                                                heads_of(gx, 0, 3),
                                                heads_of(gx, 1, 3),
                                                heads_of(gx, 2, 3)};
            if (gx.numel() > 0)
              kernels::attention_backward_kernels()(shape, grads);
            return std::vector<Tensor>{gx};
          }};
}

constexpr OpDef<QkvAttentionAttrs> kQkvAttention{
    OpId::qkv_attention, 1, 1, "attention_forward, attention_backward", qkv_attention_meta, qkv_attention_forward};

constexpr OpDef<AttentionAttrs> kAttention{OpId::scaled_dot_product_attention,
                                           3,
                                           4,
                                           "attention_forward, attention_backward",
                                           attention_meta,
                                           attention_forward};

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                                    double scale) {
  return dispatch(kAttention, {q, k, v, mask}, {causal, scale});
}

Tensor qkv_attention(const Tensor& qkv, int64_t heads, bool causal, double scale) {
  return dispatch(kQkvAttention, {qkv}, {heads, causal, scale});
}

}  // namespace loom

LOOM_REGISTER_OP(scaled_dot_product_attention, kAttention)
LOOM_REGISTER_OP(qkv_attention, kQkvAttention)
