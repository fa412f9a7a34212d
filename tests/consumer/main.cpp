// Fits y = 3x - 1 with one Linear layer; exits 0 when it learned it.
#include <cmath>
#include <cstdio>

#include "loom/loom.h"

int main() {
  using namespace loom;
  manual_seed(1);
  Tensor x = default_generator().uniform_tensor({64, 1}, -1, 1);
  Tensor y = x * 3.0 - 1.0;
  auto layer = std::make_shared<nn::Linear>(1, 1);
  auto opt = optim::make_optimizer("sgd", layer->parameters(), {.lr = 0.1});
  for (int i = 0; i < 300; ++i) {
    Tensor loss = mse_loss((*layer)(x), y);
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
  const float w = layer->weight().item<float>(), b = layer->bias().item<float>();
  std::printf("w = %.3f, b = %.3f\n", w, b);
  return std::abs(w - 3) < 1e-2 && std::abs(b + 1) < 1e-2 ? 0 : 1;
}
