#include "loom/nn/init.h"

#include <cmath>

namespace loom::nn::init {

Fans fans(const Tensor& t) {
  LOOM_CHECK(t.defined() && t.dim() >= 2, "init: fan in and fan out need a tensor of at least 2 dimensions, got shape ",
             t.defined() ? shape_str(t.shape()) : std::string("undefined"));
  int64_t receptive = 1;
  for (int64_t i = 2; i < t.dim(); ++i)
    receptive *= t.size(i);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

double calculate_gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "linear" || nonlinearity == "conv1d" || nonlinearity == "conv2d" || nonlinearity == "conv3d" ||
      nonlinearity == "sigmoid")
    return 1.0;
  if (nonlinearity == "tanh")
    return 5.0 / 3.0;
  if (nonlinearity == "relu")
    return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu")
    return std::sqrt(2.0 / (1.0 + param * param));
  if (nonlinearity == "selu")
    return 3.0 / 4.0;
  LOOM_THROW(ValueError, "calculate_gain: unknown nonlinearity \"", nonlinearity,
             "\"; expected linear, conv1d, conv2d, conv3d, sigmoid, tanh, relu, leaky_relu or selu");
}

void uniform_(const Tensor& t, double low, double high, Generator& gen) {
  LOOM_CHECK(low <= high, "uniform_: low ", low, " is above high ", high);
  t.copy_(gen.uniform_tensor(t.shape(), low, high, t.dtype()));
}

void normal_(const Tensor& t, double mean, double stddev, Generator& gen) {
  LOOM_CHECK(stddev >= 0, "normal_: standard deviation must be >= 0, got ", stddev);
  t.copy_(gen.normal_tensor(t.shape(), mean, stddev, t.dtype()));
}

void constant_(const Tensor& t, double value) { t.fill_(value); }
void zeros_(const Tensor& t) { t.fill_(0.0); }
void ones_(const Tensor& t) { t.fill_(1.0); }

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const Fans f = fans(t);
  const int64_t fan = mode == FanMode::fan_in ? f.fan_in : f.fan_out;
  LOOM_CHECK(fan > 0, "kaiming init: the fan is 0 for shape ", shape_str(t.shape()));
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
double xavier_std(const Tensor& t, double gain) {
  const Fans f = fans(t);
  LOOM_CHECK(f.fan_in + f.fan_out > 0, "xavier init: fan_in + fan_out is 0 for shape ", shape_str(t.shape()));
  return gain * std::sqrt(2.0 / static_cast<double>(f.fan_in + f.fan_out));
}
}  // namespace

void kaiming_uniform_(const Tensor& t, double a, Generator& gen, FanMode mode, const std::string& nonlinearity) {
  if (t.numel() == 0)
    return;  // as PyTorch: nothing to fill, and no fan to divide by
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  uniform_(t, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& t, double a, Generator& gen, FanMode mode, const std::string& nonlinearity) {
  if (t.numel() == 0)
    return;
  normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity), gen);
}

void xavier_uniform_(const Tensor& t, double gain, Generator& gen) {
  if (t.numel() == 0)
    return;
  const double bound = std::sqrt(3.0) * xavier_std(t, gain);
  uniform_(t, -bound, bound, gen);
}

void xavier_normal_(const Tensor& t, double gain, Generator& gen) {
  if (t.numel() == 0)
    return;
  normal_(t, 0.0, xavier_std(t, gain), gen);
}

void default_linear_(const Tensor& weight, const Tensor& bias, Generator& gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), gen);
  if (bias.defined()) {
    const int64_t fan_in = fans(weight).fan_in;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    uniform_(bias, -bound, bound, gen);
  }
}

}  // namespace loom::nn::init
