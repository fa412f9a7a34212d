// Trains the reference MLP on Fashion-MNIST through the library API and prints
// the test accuracy after every epoch.
//   build/examples/train_mlp [data-dir] [epochs]
#include <cstdio>
#include <cstdlib>

#include "loom/loom.h"

int main(int argc, char** argv) {
  using namespace loom;
  const std::string dir = argc > 1 ? argv[1] : data::kFashionMnistDir;
  const int epochs = argc > 2 ? std::atoi(argv[2]) : 3;
  try {
    auto train = data::load_fashion_mnist(dir, true);
    auto test = data::load_fashion_mnist(dir, false);
    manual_seed(1);

    // 784-256-128-10 with ReLU; the same model as `loom train --model mlp`.
    auto model = std::make_shared<nn::Sequential>();
    model->add(std::make_shared<nn::Flatten>());
    model->add(std::make_shared<nn::Linear>(784, 256));
    model->add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Linear>(256, 128));
    model->add(std::make_shared<nn::ReLU>());
    model->add(std::make_shared<nn::Linear>(128, 10));
    model->pack_parameters();

    auto optimizer = optim::make_optimizer("sgd", model->parameters(), {.lr = 0.05, .momentum = 0.9});
    data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
    for (int epoch = 0; epoch < epochs; ++epoch) {
      loader.set_epoch(epoch);
      model->train();
      for (const data::Batch& batch : loader) {
        Tensor loss = cross_entropy((*model)(batch.input), batch.target);
        optimizer->zero_grad();
        loss.backward();
        optimizer->step();
      }
      // Accuracy on the test set, without recording gradients.
      NoGradGuard no_grad;
      model->eval();
      Tensor predicted = argmax((*model)(test->inputs()), 1);
      Tensor correct = sum(equal(predicted.to(DType::f32), test->targets().to(DType::f32)));
      std::printf("epoch %d: test accuracy %.2f%%\n", epoch + 1, 100.0 * correct.item<float>() / test->size());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "train_mlp: %s\n", e.message().c_str());
    return 1;
  }
  return 0;
}
