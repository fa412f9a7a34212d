#pragma once
// DataLoader: batches from a Dataset, optionally shuffled, reproducibly.
//
//   auto train = loom::data::load_fashion_mnist();
//   loom::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
//   for (int64_t epoch = 0; epoch < 10; ++epoch) {
//     loader.set_epoch(epoch);
//     for (const loom::data::Batch& b : loader) { /* b.input [64,1,28,28], b.target [64] */ }
//   }
//
// NOTE [Epoch order]
// The sample order of epoch e is a pure function of (seed, e): a Fisher-Yates
// shuffle driven by a loom::Generator seeded from both. Nothing carries over from
// one epoch to the next, so a run resumed at epoch e (and batch k) sees exactly the
// batches the uninterrupted run would have seen.
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "loom/data/dataset.h"

namespace loom::data {

struct DataLoaderOptions {
  int64_t batch_size = 64;
  bool shuffle = false;
  bool drop_last = false;  // skip the final batch when it is smaller than batch_size
  uint64_t seed = 0;
  // 0 or 1: batches are made on the calling thread. Larger values are accepted and
  // currently behave the same; a prefetching loader keeps this interface and, by
  // NOTE [Epoch order], the same batches.
  int num_workers = 0;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options = {});

  // Starts epoch `epoch` (>= 0) at batch `first_batch` (to resume mid-epoch).
  // The constructor starts epoch 0 at batch 0.
  void set_epoch(int64_t epoch, int64_t first_batch = 0);
  int64_t epoch() const { return epoch_; }
  // Index (within the epoch) of the batch next() returns next.
  int64_t batch_index() const { return next_batch_; }
  int64_t num_batches() const;
  // The next batch of the current epoch, or nullopt when the epoch is done.
  std::optional<Batch> next();

  // Sample order of the current epoch.
  const std::vector<int64_t>& order() const { return order_; }
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
  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
  int64_t next_batch_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace loom::data
