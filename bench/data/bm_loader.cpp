// DataLoader throughput on Fashion-MNIST with the reference augmentation
// (RandomCrop(28, padding 4) + RandomHorizontalFlip + Normalize, batch 64),
// from memory and streamed from compressed shards, for 0, 1 and 2 workers.
// items_per_second is samples/s delivered to a consumer that does nothing else.
//   build/bench/bm_loader --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "loom/data/data_loader.h"
#include "loom/data/mnist.h"
#include "loom/data/shards.h"

namespace {

using namespace loom::data;

std::shared_ptr<TensorDataset> fashion_mnist() {
  static auto train = load_fashion_mnist();
  return train;
}

// Shards of the training set written once per run into a temporary folder.
struct ShardFiles {
  std::filesystem::path dir;
  std::string manifest;
  ShardFiles() {
    dir = std::filesystem::temp_directory_path() / ("loom_bm_loader_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    manifest = write_shards(*fashion_mnist(), (dir / "train").string());
  }
  ~ShardFiles() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

const std::string& shard_manifest() {
  static ShardFiles files;
  return files.manifest;
}

TransformList augmentation() {
  return {std::make_shared<RandomCrop>(28, 4), std::make_shared<RandomHorizontalFlip>(),
          std::make_shared<Normalize>(std::vector<float>{0.2860f}, std::vector<float>{0.3530f})};
}

void run(benchmark::State& state, std::shared_ptr<const Dataset> dataset, DataLoaderOptions options) {
  DataLoader loader(std::move(dataset), std::move(options));
  int64_t samples = 0, epoch = 0;
  double waited = 0;
  for (auto _ : state) {
    auto batch = loader.next();
    if (!batch) {
      waited += loader.wait_seconds();
      loader.set_epoch(++epoch);  // counted: a real run pays the restart too
      batch = loader.next();
    }
    samples += batch->target.numel();
    benchmark::DoNotOptimize(batch->input.raw_data());
  }
  state.SetItemsProcessed(samples);
  state.counters["epochs"] =
      static_cast<double>(epoch) + static_cast<double>(loader.batch_index()) / loader.num_batches();
  state.counters["wait_s"] = waited + loader.wait_seconds();
}

void BM_LoaderMemory(benchmark::State& state) {
  run(state, fashion_mnist(),
      {.batch_size = 64,
       .shuffle = true,
       .seed = 1,
       .num_workers = static_cast<int>(state.range(0)),
       .transforms = augmentation()});
}

void BM_LoaderMemoryNoTransforms(benchmark::State& state) {
  run(state, fashion_mnist(),
      {.batch_size = 64, .shuffle = true, .seed = 1, .num_workers = static_cast<int>(state.range(0))});
}

// NOTE [Block-local shuffle]: the shuffle that lets shards decompress each block about once.
void BM_LoaderShards(benchmark::State& state) {
  auto shards = ShardDataset::open(shard_manifest());
  run(state, shards,
      {.batch_size = 64,
       .shuffle = true,
       .seed = 1,
       .num_workers = static_cast<int>(state.range(0)),
       .transforms = augmentation(),
       .shuffle_block = shards->samples_per_block()});
}

// A full random shuffle over shards; the default block cache holds all of Fashion-MNIST.
void BM_LoaderShardsFullShuffle(benchmark::State& state) {
  auto shards = ShardDataset::open(shard_manifest());
  run(state, shards,
      {.batch_size = 64,
       .shuffle = true,
       .seed = 1,
       .num_workers = static_cast<int>(state.range(0)),
       .transforms = augmentation()});
}

// Data larger than the block cache (16 MiB, 8% of the set): arg 1 = 1 uses the
// block-local shuffle, 0 a full shuffle that decompresses a block for nearly every sample.
void BM_LoaderShardsSmallCache(benchmark::State& state) {
  auto shards = ShardDataset::open(shard_manifest(), {.cache_bytes = int64_t{16} << 20});
  run(state, shards,
      {.batch_size = 64,
       .shuffle = true,
       .seed = 1,
       .num_workers = static_cast<int>(state.range(0)),
       .transforms = augmentation(),
       .shuffle_block = state.range(1) ? shards->samples_per_block() : 0});
}

// A consumer that computes for 200 us per batch (a stand-in for the training step):
// with workers the loading overlaps with it, and wait_s shows what was left.
void BM_LoaderOverlap(benchmark::State& state) {
  DataLoader loader(fashion_mnist(), {.batch_size = 64,
                                      .shuffle = true,
                                      .seed = 1,
                                      .num_workers = static_cast<int>(state.range(0)),
                                      .transforms = augmentation()});
  int64_t samples = 0, epoch = 0;
  double waited = 0;
  for (auto _ : state) {
    auto batch = loader.next();
    if (!batch) {
      waited += loader.wait_seconds();
      loader.set_epoch(++epoch);
      batch = loader.next();
    }
    samples += batch->target.numel();
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (std::chrono::steady_clock::now() < until) {
    }
  }
  state.SetItemsProcessed(samples);
  state.counters["wait_s"] = waited + loader.wait_seconds();
}

BENCHMARK(BM_LoaderMemory)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoaderMemoryNoTransforms)->Arg(0)->Arg(2)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoaderShards)->Arg(0)->Arg(1)->Arg(2)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoaderShardsFullShuffle)->Arg(2)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoaderOverlap)->Arg(0)->Arg(1)->UseRealTime()->MinTime(1.0);
BENCHMARK(BM_LoaderShardsSmallCache)->Args({2, 1})->Args({2, 0})->UseRealTime()->MinTime(1.0);

}  // namespace
