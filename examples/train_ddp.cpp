// Trains the reference MLP on Fashion-MNIST data-parallel (DDP) over the ranks of
// mpirun, writes a checkpoint every N steps, and resumes from it after a crash:
// the resumed run ends with the same weights as one that was never stopped.
//
//   mpirun -np 2 build/examples/train_ddp --checkpoint run.ckpt --every 100 --save mlp.safetensors
//   # ...killed? the same command with --resume continues from the last checkpoint:
//   mpirun -np 2 build/examples/train_ddp --checkpoint run.ckpt --every 100 --save mlp.safetensors --resume
//
// Options: --data DIR (Fashion-MNIST IDX files), --samples N (train on the first N),
// --epochs E, --batch B (per rank). Without mpirun it trains in one process.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numeric>
#include <string>

#include "loom/data/sampling.h"
#include "loom/loom.h"

namespace {

struct Args {
  std::string data = loom::data::kFashionMnistDir, checkpoint, save;
  int64_t samples = 0, epochs = 2, batch = 32, every = 100;
  bool resume = false;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::runtime_error(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--data")
      a.data = value();
    else if (flag == "--checkpoint")
      a.checkpoint = value();
    else if (flag == "--save")
      a.save = value();
    else if (flag == "--samples")
      a.samples = std::stoll(value());
    else if (flag == "--epochs")
      a.epochs = std::stoll(value());
    else if (flag == "--batch")
      a.batch = std::stoll(value());
    else if (flag == "--every")
      a.every = std::stoll(value());
    else if (flag == "--resume")
      a.resume = true;
    else
      throw std::runtime_error("unknown option '" + flag + "'");
  }
  if (a.resume && a.checkpoint.empty())
    throw std::runtime_error("--resume needs --checkpoint FILE");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loom;
  try {
    const Args args = parse(argc, argv);
    std::shared_ptr<const data::Dataset> train = data::load_fashion_mnist(args.data, true);
    if (args.samples > 0 && args.samples < train->size()) {
      std::vector<int64_t> first(static_cast<size_t>(args.samples));
      std::iota(first.begin(), first.end(), 0);
      train = std::make_shared<data::SubsetDataset>(train, first);
    }

    manual_seed(1);  // every rank builds the same initial model; DDP also broadcasts rank 0's
    const std::string description = io::builtin_model_description("mlp");
    auto model = io::model_from_json_text(description, "mlp");
    model->pack_parameters();  // DDP reduces gradients straight from the packed arena
    auto optimizer = optim::make_optimizer("sgd", model->parameters(), {.lr = 0.05, .momentum = 0.9});

    std::unique_ptr<distributed::TrainingStrategy> ddp;
    if (distributed::launched_by_mpi() && distributed::mpi_world()->size() > 1) {
      distributed::DistOptions d;
      d.mode = distributed::DistMode::ddp;
      ddp = distributed::make_strategy(d, distributed::mpi_world(), *model, *optimizer);
    }
    data::DataLoaderOptions lo{.batch_size = args.batch, .shuffle = true, .seed = 1};
    lo.rank = ddp ? ddp->data_rank() : 0;  // each rank reads its shard of every epoch
    lo.world_size = ddp ? ddp->data_world() : 1;
    data::DataLoader loader(train, lo);

    train::TrainerOptions o;
    o.epochs = args.epochs;
    o.seed = 1;
    o.checkpoint = {.path = args.checkpoint,
                    .every_steps = args.checkpoint.empty() ? 0 : args.every,
                    .extra = {{"model_description", description}}};
    train::Trainer trainer(*model, *optimizer, loader, o);
    if (ddp)
      trainer.set_strategy(std::move(ddp));
    trainer.add_callback(std::make_shared<train::ProgressCallback>());
    if (args.resume && std::filesystem::exists(args.checkpoint)) {
      const io::CheckpointMeta at = trainer.resume(args.checkpoint);
      if (trainer.is_root())
        std::printf("resumed from %s at step %lld (epoch %lld)\n", args.checkpoint.c_str(),
                    static_cast<long long>(at.global_step), static_cast<long long>(at.epoch + 1));
    }
    const train::TrainLog log = trainer.fit();
    if (!trainer.is_root())
      return 0;
    auto test = data::load_fashion_mnist(args.data, false);
    const train::Evaluation ev = train::evaluate(*model, *test, 1000, train::Objective::classify);
    std::printf("%d ranks, %lld steps: test accuracy %.2f%%, final train loss %.4f\n", trainer.world_size(),
                static_cast<long long>(log.steps), 100 * ev.accuracy, log.losses.empty() ? 0.0 : log.losses.back());
    if (!args.save.empty()) {
      io::save_model_bundle(args.save, *model, {.description = description});
      std::printf("wrote %s\n", args.save.c_str());
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_ddp: error: %s\n", e.what());
    return 1;
  }
}
