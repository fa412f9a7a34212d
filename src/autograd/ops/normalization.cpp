// batch_norm, layer_norm, dropout and embedding.
//
// batch_norm is a composite of primitive ops, so its gradient comes from ops that
// are each checked on their own; layer_norm is fused (NOTE [Fused layer norm]).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "loom/autograd/grad_mode.h"
#include "loom/core/tensor_kernels.h"
#include "loom/kernels/nn_kernels.h"
#include "ops/op_util.h"

namespace loom {
using namespace ops_detail;

namespace {

struct BatchNormAttrs {
  bool training = false;
  double momentum = 0.1, eps = 1e-5;
  template <typename V>
  void fields(V&& v) {
    v("training", training);
    v("momentum", momentum);
    v("eps", eps);
  }
};

// x [n, c, ...], then weight, bias, running_mean, running_var: each [c] or none.
TensorMeta batch_norm_meta(OpId, const Metas& in, const BatchNormAttrs& a) {
  const TensorMeta& x = in[0];
  check_float_meta(x, "batch_norm");
  LOOM_CHECK(x.shape.size() >= 2, "batch_norm: expected [n, c, ...] input, got shape ", shape_str(x.shape));
  const int64_t c = x.shape[1];
  constexpr const char* kWhat[] = {"weight", "bias", "running_mean", "running_var"};
  for (size_t i = 1; i < in.size(); ++i) {
    if (!in[i].defined)
      continue;
    LOOM_CHECK(in[i].shape.size() == 1 && in[i].shape[0] == c, "batch_norm: ", kWhat[i - 1], " has shape ",
               shape_str(in[i].shape), " but the input has ", c, " channels (input shape ", shape_str(x.shape), ")");
  }
  if (a.training) {
    LOOM_CHECK(shape_numel(x.shape) / std::max<int64_t>(c, 1) > 1,
               "batch_norm: training needs more than one value per channel, got input shape ", shape_str(x.shape));
  } else {
    LOOM_CHECK(in.size() == 5 && in[3].defined && in[4].defined,
               "batch_norm: evaluation mode needs running_mean and running_var");
  }
  return x;
}

// A composite: its parts record their own nodes.
OpOutput batch_norm_forward(OpId id, const Inputs& in, const BatchNormAttrs& a) {
  batch_norm_meta(id, metas_of(in), a);
  const Tensor &x = in[0], &gamma = in[1], &beta = in[2], &running_mean = in[3], &running_var = in[4];
  const bool training = a.training;
  const double momentum = a.momentum, eps = a.eps;
  const int64_t c = x.size(1);
  Shape channel_shape(static_cast<size_t>(x.dim()), 1);
  channel_shape[1] = c;
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != 1)
      axes.push_back(i);

  Tensor xhat;
  if (training) {
    const int64_t count = x.numel() / c;
    Tensor mu = mean(x, axes, true);
    Tensor centered = sub(x, mu);
    Tensor var = mean(mul(centered, centered), axes, true);
    xhat = mul(centered, pow_scalar(add_scalar(var, eps), -0.5));
    if (running_mean.defined() && running_var.defined()) {
      NoGradGuard no_grad;
      const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
      Tensor new_mean = add(mul_scalar(running_mean, 1.0 - momentum), mul_scalar(reshape(mu.detach(), {c}), momentum));
      Tensor new_var =
          add(mul_scalar(running_var, 1.0 - momentum), mul_scalar(reshape(var.detach(), {c}), momentum * unbias));
      running_mean.copy_(new_mean);
      running_var.copy_(new_var);
    }
  } else {
    Tensor inv_std = pow_scalar(add_scalar(reshape(running_var, channel_shape), eps), -0.5);
    xhat = mul(sub(x, reshape(running_mean, channel_shape)), inv_std);
  }
  Tensor y = xhat;
  if (gamma.defined())
    y = mul(y, reshape(gamma, channel_shape));
  if (beta.defined())
    y = add(y, reshape(beta, channel_shape));
  return {y, nullptr};
}

struct LayerNormAttrs {
  int64_t normalized_axes = 1;
  double eps = 1e-5;
  template <typename V>
  void fields(V&& v) {
    v("normalized_axes", normalized_axes);
    v("eps", eps);
  }
};

TensorMeta layer_norm_meta(OpId, const Metas& in, const LayerNormAttrs& a) {
  const TensorMeta& x = in[0];
  check_float_meta(x, "layer_norm");
  const auto ndim = static_cast<int64_t>(x.shape.size());
  LOOM_CHECK(a.normalized_axes >= 1 && a.normalized_axes <= ndim, "layer_norm: cannot normalise the last ",
             a.normalized_axes, " axes of a tensor of shape ", shape_str(x.shape));
  Shape trailing(x.shape.end() - a.normalized_axes, x.shape.end());
  for (size_t i = 1; i < in.size(); ++i) {
    if (in[i].defined) {
      LOOM_CHECK(in[i].shape == trailing, "layer_norm: weight/bias shape ", shape_str(in[i].shape),
                 " differs from the normalised shape ", shape_str(trailing));
    }
  }
  return x;
}

// NOTE [Fused layer norm]: one kernel over [rows, n] (the normalised axes
// flattened) saves each row's mean and 1/std; the backward is one kernel too,
// instead of the dozen element-wise and reduction ops of the formula.
OpOutput layer_norm_forward(OpId id, const Inputs& in, const LayerNormAttrs& a) {
  layer_norm_meta(id, metas_of(in), a);
  const Tensor &x = in[0], &gamma = in[1], &beta = in[2];
  int64_t n = 1;
  for (int64_t i = x.dim() - a.normalized_axes; i < x.dim(); ++i)
    n *= x.size(i);
  const int64_t rows = n > 0 ? x.numel() / n : 0;
  const Tensor x2 = x.contiguous().view({rows, n});
  auto flat = [&](const Tensor& t) { return t.defined() ? t.contiguous().view({n}) : t; };
  const Tensor g = flat(gamma), b = flat(beta);
  Tensor y = Tensor::empty({rows, n}, x.dtype(), x.device());
  Tensor mu = Tensor::empty({rows}, x.dtype(), x.device()), rstd = Tensor::empty({rows}, x.dtype(), x.device());
  if (x.numel() > 0)
    kernels::layer_norm_forward_kernels()(x2, g, b, y, mu, rstd, a.eps);
  const bool gg = gamma.defined(), gb = beta.defined();
  return {y.view(x.shape()),
          [x2, g, mu, rstd, gg, gb, shape = x.shape(), gshape = gamma.defined() ? gamma.shape() : Shape{},
           bshape = beta.defined() ? beta.shape() : Shape{}](const Tensor& grad) {
            kernels::LayerNormGrads lg;
            lg.dy = grad.contiguous().view(x2.shape());
            lg.x = x2;
            lg.gamma = g;
            lg.mean = mu;
            lg.rstd = rstd;
            lg.dx = Tensor::empty(x2.shape(), x2.dtype(), x2.device());
            if (gg)
              lg.dgamma = Tensor::empty({x2.size(1)}, x2.dtype(), x2.device());
            if (gb)
              lg.dbeta = Tensor::empty({x2.size(1)}, x2.dtype(), x2.device());
            if (x2.numel() > 0) {
              kernels::layer_norm_backward_kernels()(lg);
            } else {
              for (Tensor* t : {&lg.dgamma, &lg.dbeta})
                if (t->defined())
                  t->fill_(0.0);
            }
            return std::vector<Tensor>{lg.dx.view(shape), gg ? lg.dgamma.view(gshape) : Tensor(),
                                       gb ? lg.dbeta.view(bshape) : Tensor()};
          }};
}

struct DropoutAttrs {
  double p = 0.5;
  bool training = false;
  Generator* generator = nullptr;  // not an attribute: null is the default generator
  template <typename V>
  void fields(V&& v) {
    v("p", p);
    v("training", training);
  }
};

TensorMeta dropout_meta(OpId, const Metas& in, const DropoutAttrs& a) {
  check_float_meta(in[0], "dropout");
  LOOM_CHECK(a.p >= 0.0 && a.p <= 1.0, "dropout: probability must be in [0, 1], got ", a.p);
  return in[0];
}

// A composite: mul by a mask of the generator's draws (or the input itself).
OpOutput dropout_forward(OpId id, const Inputs& in, const DropoutAttrs& a) {
  const Tensor& x = in[0];
  dropout_meta(id, {TensorMeta::of(x)}, a);
  const double p = a.p;
  if (!a.training || p == 0.0)
    return {x, nullptr};
  Generator& generator = a.generator ? *a.generator : default_generator();
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  // Each element kept with probability 1 - p, as 1 / (1 - p) (0 when p is 1).
  random_fill_kernels()(mask, {RandomFill::Kind::bernoulli, p, p < 1.0 ? 1.0 / (1.0 - p) : 0.0}, generator);
  return {mul(x, mask), nullptr};
}

// index i64 [...], table [rows, dim] -> [..., dim].
TensorMeta embedding_meta(OpId, const Metas& in, const NoAttrs&) {
  const TensorMeta &index = in[0], &table = in[1];
  check_float_meta(table, "embedding");
  LOOM_CHECK(table.shape.size() == 2, "embedding: table must be [rows, dim], got ", shape_str(table.shape));
  LOOM_CHECK(index.defined && index.dtype == DType::i64, "embedding: indices must be i64",
             index.defined ? std::string(", got ") + dtype_name(index.dtype) : std::string());
  Shape out = index.shape;
  out.push_back(table.shape[1]);
  return {out, table.dtype};
}

OpOutput embedding_forward(OpId id, const Inputs& in, const NoAttrs&) {
  const Tensor &index = in[0], &table = in[1];
  embedding_meta(id, metas_of(in), {});
  Tensor idx = index.contiguous();
  Tensor tc = table.contiguous();
  Shape out_shape = index.shape();
  out_shape.push_back(table.size(1));
  Tensor out = Tensor::empty({idx.numel(), table.size(1)}, table.dtype(), table.device());
  kernels::index_select_rows_kernels()(tc, idx, out);
  out = out.view(out_shape);
  return {out, [idx, ts = table.shape(), dtype = table.dtype()](const Tensor& g) {
            Tensor gt = Tensor::zeros(ts, dtype);
            kernels::index_add_rows_kernels()(g.contiguous().view({-1, ts[1]}), idx, gt);
            return std::vector<Tensor>{Tensor(), gt};
          }};
}

constexpr OpDef<BatchNormAttrs> kBatchNorm{
    OpId::batch_norm, 1, 5, "binary, unary, reduce (through its parts)", batch_norm_meta, batch_norm_forward};
constexpr OpDef<LayerNormAttrs> kLayerNorm{
    OpId::layer_norm, 1, 3, "layer_norm_forward, layer_norm_backward", layer_norm_meta, layer_norm_forward};
constexpr OpDef<DropoutAttrs> kDropout{OpId::dropout,  1, 1, "random fill (in the op), binary", dropout_meta,
                                       dropout_forward};
constexpr OpDef<NoAttrs> kEmbedding{OpId::embedding,  2, 2, "index_select_rows, index_add_rows", embedding_meta,
                                    embedding_forward};

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor running_mean, Tensor running_var,
                  bool training, double momentum, double eps) {
  return dispatch(kBatchNorm, {x, gamma, beta, running_mean, running_var}, {training, momentum, eps});
}
Tensor layer_norm(const Tensor& x, int64_t normalized_axes, const Tensor& gamma, const Tensor& beta, double eps) {
  return dispatch(kLayerNorm, {x, gamma, beta}, {normalized_axes, eps});
}
Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  return dispatch(kDropout, {x}, {p, training, &generator});
}
Tensor embedding(const Tensor& index, const Tensor& table) { return dispatch(kEmbedding, {index, table}, {}); }

}  // namespace loom

LOOM_REGISTER_OP(batch_norm, kBatchNorm)
LOOM_REGISTER_OP(layer_norm, kLayerNorm)
LOOM_REGISTER_OP(dropout, kDropout)
LOOM_REGISTER_OP(embedding, kEmbedding)
