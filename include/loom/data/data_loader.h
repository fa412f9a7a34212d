#pragma once
// DataLoader: batches from a Dataset, optionally shuffled, sharded by rank,
// augmented and prefetched by worker threads, reproducibly.
//
//   auto train = loom::data::load_fashion_mnist();
//   loom::data::DataLoaderOptions o{.batch_size = 64, .shuffle = true, .seed = 1, .num_workers = 2};
//   o.transforms = {std::make_shared<loom::data::RandomHorizontalFlip>()};
//   loom::data::DataLoader loader(train, o);
//   for (int64_t epoch = 0; epoch < 10; ++epoch) {
//     loader.set_epoch(epoch);
//     for (const loom::data::Batch& b : loader) { /* b.input [64,1,28,28], b.target [64] */ }
//     std::printf("waited %.2f s for data\n", loader.wait_seconds());
//   }
//
// NOTE [Epoch order]
// The sample order of epoch e is a pure function of (seed, e): a Fisher-Yates
// shuffle driven by a loom::Generator seeded from both (or the block-local
// shuffle of NOTE [Block-local shuffle] when shuffle_block > 0), then this rank's
// slice of it (NOTE [Rank sharding]). Nothing carries over from one epoch to the
// next, so a run resumed at epoch e (and batch k) sees exactly the batches the
// uninterrupted run would have seen.
//
// NOTE [Ordered prefetch]
// With num_workers >= 1, batch i of the epoch is built (read, stacked, transformed)
// by one task on the runtime's loader pool (runtime/task_pool.h, NOTE [Loader
// workers]); at most `prefetch` batches beyond the one returned last are queued
// or being built, and next() returns them strictly in order i = 0, 1, 2, ...
// Since a batch is a function of the epoch's order (fixed before any worker
// starts) and of per-sample generators (NOTE [Per-sample generators] in
// transforms.h), batch i has the same bits for
// every num_workers, including 0 (built on the calling thread). set_epoch() and
// the destructor cancel batches not yet started and wait for the ones running, so
// neither hangs nor leaves a worker touching a dead loader. An exception from a
// worker (a dataset read, a transform) is rethrown by the next() that asks for that
// batch: loom::Error subclasses as they are, anything else as loom::Error naming
// the batch and epoch; that next() call can be retried (it rebuilds the batch).
// Workers call the dataset's batch() concurrently, so a dataset used with
// num_workers >= 1 must allow that (TensorDataset, SubsetDataset over one and
// ShardDataset do).
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "loom/data/dataset.h"
#include "loom/data/transforms.h"

namespace loom::runtime {
class TaskPool;
}

namespace loom::data {

namespace detail {
struct EpochPlan;
class Prefetcher;
}  // namespace detail

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = false;
  // Skip the final batch when it is smaller than batch_size; with world_size > 1 it
  // also truncates rather than pads the epoch (NOTE [Rank sharding] in sampling.h).
  bool drop_last = false;
  uint64_t seed = 0;  // drives the shuffle and the transforms' generators
  // 0: batches are made on the calling thread. N >= 1: by N workers of the
  // runtime's loader pool (NOTE [Ordered prefetch]); same batches either way.
  int num_workers = 0;
  // With workers: batches kept queued or being built ahead of the one the consumer
  // holds (a bounded window, NOTE [Ordered prefetch]); 0 means 2 * num_workers.
  int prefetch = 0;
  // This process's shard of every epoch (NOTE [Rank sharding]); 0 <= rank < world_size.
  int64_t rank = 0;
  int64_t world_size = 1;
  // Applied in order to every batch by the workers (NOTE [Per-sample generators]).
  TransformList transforms;
  // > 0: shuffle with NOTE [Block-local shuffle] using blocks of this many samples,
  // mixing `shuffle_window` blocks at a time. For a ShardDataset larger than its
  // block cache, set it to samples_per_block() so each compressed block is
  // decompressed about once per epoch instead of once per sample.
  int64_t shuffle_block = 0;
  int64_t shuffle_window = 8;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});
  ~DataLoader();  // cancels and waits for this loader's in-flight batches
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Starts epoch `epoch` (>= 0) at batch `first_batch` (to resume mid-epoch) and,
  // with workers, starts prefetching. The constructor starts epoch 0 at batch 0
  // (prefetching begins at the first next()).
  void set_epoch(int64_t epoch, int64_t first_batch = 0);
  int64_t epoch() const { return epoch_; }
  // Index (within the epoch) of the batch next() returns next.
  int64_t batch_index() const { return next_batch_; }
  int64_t num_batches() const;
  // Samples this rank sees per epoch (after padding or truncation for sharding).
  int64_t num_samples() const;
  // The next batch of the current epoch, or nullopt when the epoch is done.
  std::optional<Batch> next();
  // Seconds next() spent blocked waiting for a batch since the last set_epoch():
  // time the consumer was starved of data. With num_workers == 0 that is all the
  // time spent building batches.
  double wait_seconds() const { return wait_seconds_; }

  // This rank's sample order for the current epoch.
  const std::vector<int64_t>& order() const;
  // Order of epoch `epoch` for n samples: identity without shuffle (NOTE [Epoch order]).
  static std::vector<int64_t> epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch);

  const Dataset& dataset() const { return *dataset_; }
  const DataLoaderOptions& options() const { return options_; }

  // Range-for over the rest of the current epoch (call set_epoch before each epoch).
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;
    Iterator() = default;
    explicit Iterator(DataLoader* loader) : loader_(loader) { advance(); }
    const Batch& operator*() const { return *current_; }
    const Batch* operator->() const { return &*current_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(const Iterator& other) const { return done() == other.done(); }

   private:
    void advance();
    bool done() const { return !current_.has_value(); }
    DataLoader* loader_ = nullptr;
    std::optional<Batch> current_;
  };
  Iterator begin() { return Iterator(this); }
  Iterator end() { return Iterator(); }

 private:
  void stop_workers();
  void start_workers();

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;
  double wait_seconds_ = 0;
  std::shared_ptr<const detail::EpochPlan> plan_;
  std::shared_ptr<runtime::TaskPool> pool_;
  std::unique_ptr<detail::Prefetcher> prefetcher_;
};

}  // namespace loom::data
