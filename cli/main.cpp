// loom: train, evaluate and inspect models from the command line.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "bench_command.h"
#include "commands.h"
#include "data_command.h"
#include "distributed_flags.h"
#include "generate_command.h"
#include "loom/core/error.h"
#include "thread_flag.h"

namespace loom::cli {
const CLI::Validator one_character(
    [](std::string& s) { return s.size() == 1 ? std::string() : "expected one character, got '" + s + "'"; }, "CHAR");
}  // namespace loom::cli

int main(int argc, char** argv) {
  using namespace loom::cli;
  CLI::App app{"loom: train and run neural networks fast on the CPU", "loom"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "loom " LOOM_VERSION_STRING);
  app.footer(
      "Every command that computes (train, eval, infer, generate, data inspect|pack|preprocess) takes --threads N, and "
      "info --threads N prints the budget it gives; without it, LOOM_NUM_THREADS, else the cores this process may "
      "use divided by the MPI ranks on this node.");

  TrainOptions train;
  auto* t =
      app.add_subcommand("train", "Train a model on images (Fashion-MNIST/MNIST IDX files), a CSV table or text (gpt)");
  t->add_option("--model", train.model,
                "Built-in model (mlp, cnn, gpt), a JSON model description file, or linear / logistic (CSV data: "
                "full-batch gradient descent, distributed under mpirun)")
      ->capture_default_str();
  t->add_option("--data", train.data_dir,
                "Directory with IDX files (.gz or plain), a shard manifest (*.manifest.json), or a CSV file; for a "
                "model of token inputs (gpt), a text file or a directory of them (default: /usr/share/games/fortunes)")
      ->capture_default_str();
  t->add_option("--epochs", train.epochs, "Epochs (default: the model's, else 3)")->check(CLI::Range(1, 100000));
  t->add_option("--steps", train.steps, "Train this many optimizer steps instead of epochs (default: the model's)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  t->add_option("--max-grad-norm", train.max_grad_norm,
                "Clip the gradients' global L2 norm to this before each step, 0 for none (default: the model's)")
      ->check(CLI::NonNegativeNumber);
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
  add_threads_flag(t, train.threads, train.threads_auto);
  t->add_option("--save", train.save_path, "Write the trained weights here (safetensors)");
  t->add_option("--checkpoint", train.checkpoint_path, "Write a checkpoint here after every epoch");
  t->add_option("--resume", train.resume_path, "Continue from this checkpoint");
  t->add_option("--metrics", train.metrics_path, "Write a JSON summary of the run here");
  t->add_option("--profile", train.profile_path,
                "Profile training: write a Chrome trace (chrome://tracing, Perfetto) here and print the costliest ops");
  t->add_flag("--stats", train.stats,
              "Print memory counters at the end: peak and live bytes, allocations, system allocations per step");
  t->add_option("--train-samples", train.train_samples, "Use only the first N training samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  t->add_option("--test-samples", train.test_samples, "Use only the first N test samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  t->add_flag("--quiet", train.quiet, "Print only the final summary");
  t->add_option("--workers", train.workers, "Loader worker threads that prepare batches ahead (0 = none)")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  t->add_flag("--augment", train.augment, "Images: random crop (padding 2) and horizontal flip while training");
  t->add_option("--target", train.target, "CSV data: the column to predict");
  t->add_option("--pipeline", train.pipeline,
                "CSV data: preprocessing pipeline spec (JSON text or file), fitted on the training rows");
  t->add_option("--task", train.task, "CSV data: classify, regress or auto (from the target column)")
      ->check(CLI::IsMember({"auto", "classify", "regress"}))
      ->capture_default_str();
  t->add_option("--skip-rows", train.skip_rows, "CSV data: lines to skip before the header")
      ->check(CLI::NonNegativeNumber);
  t->add_flag("--no-header", train.no_header, "CSV data: the file has no header line (columns are c0, c1, ...)");
  t->add_option("--delimiter", train.delimiter, "CSV data: the field separator (one character)")
      ->check(one_character)
      ->capture_default_str();
  t->add_option("--test-data", train.test_data,
                "Held-out images when --data is a shard manifest: a manifest or an IDX directory");
  t->add_option("--validation", train.validation, "CSV data: fraction of rows held out for validation")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  add_distributed_flags(t, train.dist);

  EvalOptions eval;
  auto* e = app.add_subcommand("eval", "Evaluate trained weights on the test set");
  e->add_option("--model", eval.model, "Built-in model or description file (default: read from the weights file)");
  e->add_option("--weights", eval.weights_path, "Weights (safetensors) written by train --save")->required();
  e->add_option("--data", eval.data_dir, "IDX directory (test split), shard manifest, or CSV file")
      ->capture_default_str();
  e->add_option("--batch", eval.batch, "Batch size")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  e->add_option("--test-samples", eval.test_samples, "Use only the first N test samples (0 = all)")
      ->check(CLI::NonNegativeNumber);
  e->add_option("--metrics", eval.metrics_path, "Write a JSON summary here");
  e->add_option(
      "--profile", eval.profile_path,
      "Profile the timed pass: write a Chrome trace (chrome://tracing, Perfetto) here and print the costliest "
      "ops");
  e->add_flag("--stats", eval.stats, "Print memory counters at the end: peak and live bytes, allocations");
  add_threads_flag(e, eval.threads);

  EvalOptions infer;
  auto* inf = app.add_subcommand("infer", "Predict the target of every row of a CSV file with a tabular model");
  inf->add_option("--weights", infer.weights_path, "Weights written by train --save on CSV data")->required();
  inf->add_option("--data", infer.data_dir, "CSV file (the target column may be absent)")->required();
  inf->add_option("--out", infer.output_path, "Where to write the predictions (CSV; default stdout)");
  inf->add_option("--batch", infer.batch, "Batch size")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  inf->add_flag("--stats", infer.stats, "Print memory counters at the end: peak and live bytes, allocations");
  add_threads_flag(inf, infer.threads);

  DataOptions data_opts;
  auto* d = add_data_command(app, data_opts);

  BenchOptions bench_opts;
  auto* bench = add_bench_command(app, bench_opts);

  GenerateCommandOptions generate_opts;
  auto* gen = add_generate_command(app, generate_opts);

  InfoOptions info;
  auto* i = app.add_subcommand("info", "Print version, build options, CPU and thread budget, or a model's layers");
  i->add_option("--model", info.model,
                "Built-in model or description file: print each layer's output shape, parameters, forward FLOPs and "
                "activation bytes for a batch");
  i->add_option("--batch", info.batch, "Batch size for --model")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  i->add_flag("--json", info.json, "With --model: print JSON");
  add_threads_flag(i, info.threads);  // the budget it prints (and OpenBLAS's count) follow the flag

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
    if (app.got_subcommand(inf))
      return run_infer(infer);
    if (app.got_subcommand(bench))
      return run_bench(bench_opts);
    if (app.got_subcommand(d))
      return run_data(data_opts);
    if (app.got_subcommand(gen))
      return run_generate(generate_opts);
    return run_info(info);
  } catch (const loom::Error& err) {
    std::fprintf(stderr, "loom: error: %s\n", err.message().c_str());
    return 1;
  } catch (const std::exception& err) {
    std::fprintf(stderr, "loom: error: %s\n", err.what());
    return 1;
  }
}
