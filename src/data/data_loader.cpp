#include "loom/data/data_loader.h"

#include <algorithm>
#include <numeric>

#include "loom/core/error.h"
#include "loom/core/generator.h"

namespace loom::data {
namespace {

// A 64-bit finaliser (splitmix64's), so nearby (seed, epoch) pairs give unrelated streams.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<int64_t> DataLoader::epoch_order(int64_t n, bool shuffle, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle)
    return order;
  // NOTE [Epoch order]: the generator depends on (seed, epoch) only.
  Generator gen(mix(seed ^ mix(static_cast<uint64_t>(epoch))));
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(gen.below(static_cast<uint64_t>(i) + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options) {
  LOOM_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  LOOM_CHECK(options_.batch_size > 0, "DataLoader: batch_size must be positive, got ", options_.batch_size);
  LOOM_CHECK(options_.num_workers >= 0, "DataLoader: num_workers must be >= 0, got ", options_.num_workers);
  set_epoch(0);
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

void DataLoader::set_epoch(int64_t epoch, int64_t first_batch) {
  LOOM_CHECK(epoch >= 0, "DataLoader::set_epoch: epoch must be >= 0, got ", epoch);
  LOOM_CHECK(first_batch >= 0 && first_batch <= num_batches(), "DataLoader::set_epoch: first_batch ", first_batch,
             " is outside [0, ", num_batches(), "]");
  // The order is regenerated (not cached across epochs) so it can only depend on (seed, epoch).
  if (order_.empty() || epoch != epoch_ || static_cast<int64_t>(order_.size()) != dataset_->size()) {
    order_ = epoch_order(dataset_->size(), options_.shuffle, options_.seed, epoch);
  }
  epoch_ = epoch;
  next_batch_ = first_batch;
}

std::optional<Batch> DataLoader::next() {
  if (next_batch_ >= num_batches())
    return std::nullopt;
  const int64_t n = static_cast<int64_t>(order_.size());
  const int64_t begin = next_batch_ * options_.batch_size;
  const int64_t end = std::min(n, begin + options_.batch_size);
  std::vector<int64_t> indices(order_.begin() + begin, order_.begin() + end);
  ++next_batch_;
  return dataset_->batch(indices);
}

void DataLoader::Iterator::advance() { current_ = loader_ ? loader_->next() : std::nullopt; }

}  // namespace loom::data
