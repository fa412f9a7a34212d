#pragma once
// Parameter initialisers with PyTorch's formulas (torch.nn.init). Each fills the
// tensor in place, without recording autograd history, from the given generator,
// so a seeded generator makes a model's initial weights reproducible.
#include <string>

#include "loom/core/generator.h"
#include "loom/core/tensor.h"

namespace loom::nn::init {

struct Fans {
  int64_t fan_in = 0, fan_out = 0;
};
// torch.nn.init._calculate_fan_in_and_fan_out: for [out, in, k...],
// fan_in = in * prod(k) and fan_out = out * prod(k). Needs at least 2 dimensions.
Fans fans(const Tensor& t);

// torch.nn.init.calculate_gain: "linear", "conv1d/2d/3d", "sigmoid" -> 1,
// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)),
// "selu" -> 3/4.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);

enum class FanMode { fan_in, fan_out };

void uniform_(const Tensor& t, double low, double high, Generator& gen = default_generator());
void normal_(const Tensor& t, double mean, double stddev, Generator& gen = default_generator());
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);

// U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
void kaiming_uniform_(const Tensor& t, double a = 0.0, Generator& gen = default_generator(),
                      FanMode mode = FanMode::fan_in, const std::string& nonlinearity = "leaky_relu");
// N(0, s^2) with s = gain / sqrt(fan).
void kaiming_normal_(const Tensor& t, double a = 0.0, Generator& gen = default_generator(),
                     FanMode mode = FanMode::fan_in, const std::string& nonlinearity = "leaky_relu");
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
void xavier_uniform_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());
// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
void xavier_normal_(const Tensor& t, double gain = 1.0, Generator& gen = default_generator());

// nn.Linear's and nn.Conv*d's reset_parameters(): weight kaiming_uniform_(a=sqrt(5)),
// which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias (when defined) from the same range.
void default_linear_(const Tensor& weight, const Tensor& bias, Generator& gen = default_generator());

}  // namespace loom::nn::init
