// loom: train, evaluate and inspect models from the command line.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "commands.h"
#include "loom/core/error.h"

namespace {

void add_thread_flag(CLI::App* cmd, std::optional<int>& threads) {
  cmd->add_option("--threads", threads,
                  "Compute threads (default: LOOM_NUM_THREADS, else the cores this process may use)")
      ->check(CLI::Range(1, 4096));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loom::cli;
  CLI::App app{"loom: train and run neural networks fast on the CPU", "loom"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "loom " LOOM_VERSION_STRING);

  TrainOptions train;
  auto* t = app.add_subcommand("train", "Train a model on Fashion-MNIST/MNIST (IDX files)");
  t->add_option("--model", train.model, "Built-in model (mlp, cnn) or a JSON model description file")
      ->capture_default_str();
  t->add_option("--data", train.data_dir, "Directory with the IDX files (.gz or plain)")->capture_default_str();
  t->add_option("--epochs", train.epochs, "Epochs (default: the model's, else 3)")->check(CLI::Range(1, 100000));
  t->add_option("--batch", train.batch, "Batch size (default: the model's, else 64)")->check(CLI::Range(1, 1 << 20));
  t->add_option("--optimizer", train.optimizer, "sgd, adam, adamw or rmsprop (default: the model's)")
      ->check(CLI::IsMember({"sgd", "adam", "adamw", "rmsprop"}));
  t->add_option("--lr", train.lr, "Learning rate (default: the model's)")->check(CLI::PositiveNumber);
  t->add_option("--momentum", train.momentum, "Momentum for sgd/rmsprop (default: the model's)")
      ->check(CLI::Range(0.0, 1.0));
  t->add_option("--weight-decay", train.weight_decay, "Weight decay")->check(CLI::Range(0.0, 1.0));
  t->add_option("--schedule", train.schedule, "Learning-rate schedule: constant, step or cosine")
      ->check(CLI::IsMember({"constant", "step", "cosine"}))
      ->capture_default_str();
  t->add_option("--warmup", train.warmup_steps, "Linear warm-up steps before the schedule")
      ->check(CLI::NonNegativeNumber);
  t->add_option("--seed", train.seed, "Random seed (weights, shuffling, dropout)")->capture_default_str();
  add_thread_flag(t, train.threads);
  t->add_option("--save", train.save_path, "Write the trained weights here (safetensors)");
  t->add_option("--checkpoint", train.checkpoint_path, "Write a checkpoint here after every epoch");
  t->add_option("--resume", train.resume_path, "Continue from this checkpoint");
  t->add_option("--metrics", train.metrics_path, "Write a JSON summary of the run here");
  t->add_option("--train-samples", train.train_samples, "Use only the first N training samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  t->add_option("--test-samples", train.test_samples, "Use only the first N test samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  t->add_flag("--quiet", train.quiet, "Print only the final summary");

  EvalOptions eval;
  auto* e = app.add_subcommand("eval", "Evaluate trained weights on the test set");
  e->add_option("--model", eval.model, "Built-in model or description file (default: read from the weights file)");
  e->add_option("--weights", eval.weights_path, "Weights (safetensors) written by train --save")->required();
  e->add_option("--data", eval.data_dir, "Directory with the IDX files")->capture_default_str();
  e->add_option("--batch", eval.batch, "Batch size")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  e->add_option("--test-samples", eval.test_samples, "Use only the first N test samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  e->add_option("--metrics", eval.metrics_path, "Write a JSON summary here");
  add_thread_flag(e, eval.threads);

  app.add_subcommand("info", "Print version, build options, CPU and thread budget");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& err) {
    return app.exit(err);  // prints the problem and usage; non-zero for errors
  }
  try {
    if (app.got_subcommand(t))
      return run_train(train);
    if (app.got_subcommand(e))
      return run_eval(eval);
    return run_info();
  } catch (const loom::Error& err) {
    std::fprintf(stderr, "loom: error: %s\n", err.message().c_str());
    return 1;
  } catch (const std::exception& err) {
    std::fprintf(stderr, "loom: error: %s\n", err.what());
    return 1;
  }
}
