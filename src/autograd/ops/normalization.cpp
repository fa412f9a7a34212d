// batch_norm, layer_norm, dropout and embedding.
//
// The normalisations are composites of primitive ops, so their gradients come
// from ops that are each checked on their own; a fused kernel can replace them
// later behind the same signature.
#include <cmath>
#include <type_traits>

#include "loom/autograd/grad_mode.h"
#include "loom/kernels/nn_kernels.h"
#include "ops/op_util.h"

namespace loom {
using autograd::OpId;
using autograd::record;
using namespace ops_detail;

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor running_mean, Tensor running_var,
                  bool training, double momentum, double eps) {
  check_float(x, "batch_norm");
  LOOM_CHECK(x.dim() >= 2, "batch_norm: expected [n, c, ...] input, got shape ", shape_str(x.shape()));
  const int64_t c = x.size(1);
  auto check_param = [&](const Tensor& p, const char* what) {
    if (!p.defined())
      return;
    LOOM_CHECK(p.dim() == 1 && p.size(0) == c, "batch_norm: ", what, " has shape ", shape_str(p.shape()),
               " but the input has ", c, " channels (input shape ", shape_str(x.shape()), ")");
  };
  check_param(gamma, "weight");
  check_param(beta, "bias");
  check_param(running_mean, "running_mean");
  check_param(running_var, "running_var");
  Shape channel_shape(static_cast<size_t>(x.dim()), 1);
  channel_shape[1] = c;
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < x.dim(); ++i)
    if (i != 1)
      axes.push_back(i);

  Tensor xhat;
  if (training) {
    const int64_t count = x.numel() / c;
    LOOM_CHECK(count > 1, "batch_norm: training needs more than one value per channel, got input shape ",
               shape_str(x.shape()));
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
    LOOM_CHECK(running_mean.defined() && running_var.defined(),
               "batch_norm: evaluation mode needs running_mean and running_var");
    Tensor inv_std = pow_scalar(add_scalar(reshape(running_var, channel_shape), eps), -0.5);
    xhat = mul(sub(x, reshape(running_mean, channel_shape)), inv_std);
  }
  Tensor y = xhat;
  if (gamma.defined())
    y = mul(y, reshape(gamma, channel_shape));
  if (beta.defined())
    y = add(y, reshape(beta, channel_shape));
  return y;
}

Tensor layer_norm(const Tensor& x, int64_t normalized_axes, const Tensor& gamma, const Tensor& beta, double eps) {
  check_float(x, "layer_norm");
  LOOM_CHECK(normalized_axes >= 1 && normalized_axes <= x.dim(), "layer_norm: cannot normalise the last ",
             normalized_axes, " axes of a tensor of shape ", shape_str(x.shape()));
  Shape trailing(x.shape().end() - normalized_axes, x.shape().end());
  for (const Tensor* p : {&gamma, &beta}) {
    if (p->defined()) {
      LOOM_CHECK(p->shape() == trailing, "layer_norm: weight/bias shape ", shape_str(p->shape()),
                 " differs from the normalised shape ", shape_str(trailing));
    }
  }
  std::vector<int64_t> axes;
  for (int64_t i = x.dim() - normalized_axes; i < x.dim(); ++i)
    axes.push_back(i);
  Tensor mu = mean(x, axes, true);
  Tensor centered = sub(x, mu);
  Tensor var = mean(mul(centered, centered), axes, true);
  Tensor y = mul(centered, pow_scalar(add_scalar(var, eps), -0.5));
  if (gamma.defined())
    y = mul(y, gamma);
  if (beta.defined())
    y = add(y, beta);
  return y;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator& generator) {
  check_float(x, "dropout");
  LOOM_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got ", p);
  if (!training || p == 0.0)
    return x;
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  const double keep_scale = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  // Compare raw 53-bit draws against a threshold: no per-element conversion.
  const uint64_t threshold = static_cast<uint64_t>(std::ceil(p * 0x1.0p53));
  auto fill = [&](auto* m) {
    using T = std::remove_pointer_t<decltype(m)>;
    const T keep = static_cast<T>(keep_scale);
    for (int64_t i = 0, n = mask.numel(); i < n; ++i)
      m[i] = (generator.next_u64() >> 11) >= threshold ? keep : T(0);
  };
  if (mask.dtype() == DType::f32) {
    fill(mask.data<float>());
  } else {
    fill(mask.data<double>());
  }
  return mul(x, mask);
}

Tensor embedding(const Tensor& index, const Tensor& table) {
  check_float(table, "embedding");
  LOOM_CHECK(table.dim() == 2, "embedding: table must be [rows, dim], got ", shape_str(table.shape()));
  LOOM_CHECK(index.defined() && index.dtype() == DType::i64, "embedding: indices must be i64",
             index.defined() ? std::string(", got ") + dtype_name(index.dtype()) : std::string());
  Tensor idx = index.contiguous();
  Tensor tc = table.contiguous();
  Shape out_shape = index.shape();
  out_shape.push_back(table.size(1));
  Tensor out = Tensor::empty({idx.numel(), table.size(1)}, table.dtype(), table.device());
  kernels::index_select_rows_kernels()(tc, idx, out);
  out = out.view(out_shape);
  return record(OpId::embedding, out, {index, table},
                [idx, ts = table.shape(), dtype = table.dtype()](const Tensor& g) {
                  Tensor gt = Tensor::zeros(ts, dtype);
                  kernels::index_add_rows_kernels()(g.contiguous().view({-1, ts[1]}), idx, gt);
                  return std::vector<Tensor>{Tensor(), gt};
                });
}

}  // namespace loom
