#pragma once
// Index sampling: epoch permutations, rank sharding, train/validation splits,
// stratified samples, and SubsetDataset (a view of a dataset through an index list).
//
//   auto labels = loom::data::dataset_labels(*train);
//   auto split = loom::data::train_validation_split(labels, 0.1, /*seed=*/1);
//   auto fit = std::make_shared<loom::data::SubsetDataset>(train, split.train);
//   auto val = std::make_shared<loom::data::SubsetDataset>(train, split.validation);
//
// Every function here is a pure function of its arguments (loom::Generator, no
// std:: distributions), so the same call gives the same indices on every platform.
#include <cstdint>
#include <memory>
#include <vector>

#include "loom/data/dataset.h"

namespace loom::data {

// ---- epoch orders (NOTE [Epoch order] in data_loader.h) ---------------------------

// A uniformly random permutation of [0, n), a function of (seed, epoch) alone.
std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch);

// Seed of the generator that augments dataset sample `index` in epoch `epoch`
// (NOTE [Per-sample generators] in transforms.h): a hash of the three.
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);

// NOTE [Block-local shuffle]
// A permutation of [0, n) that keeps reads local for datasets stored in blocks
// (ShardDataset decompresses a whole block to read one sample). The samples are cut
// into blocks [k*block, (k+1)*block); the block order is shuffled; consecutive
// groups of `window` shuffled blocks are concatenated and shuffled within the
// group. A batch then draws from at most `window` blocks (two at a group boundary),
// so a cache of a few windows of blocks decompresses each block about once per
// epoch, while each sample can still land anywhere in the epoch and next to
// samples from `window` different places in the file. A function of
// (n, block, window, seed, epoch) alone; block >= 1, window >= 1.
std::vector<int64_t> block_local_permutation(int64_t n, int64_t block, int64_t window, uint64_t seed, int64_t epoch);

// NOTE [Rank sharding]
// Rank `rank` of `world_size` takes order[rank], order[rank + world_size], ... of
// the epoch's order (the same on every rank), like torch DistributedSampler:
//  - drop_last == false: the order is first padded to ceil(n / world_size) *
//    world_size entries by repeating it from its start (wrapping as often as
//    needed), so every rank gets ceil(n / world_size) samples and a few samples
//    are seen twice per epoch;
//  - drop_last == true: the order is truncated to floor(n / world_size) *
//    world_size entries, so every rank gets floor(n / world_size) samples and
//    the last n % world_size samples of the order are skipped this epoch.
// The ranks' slices are disjoint (as positions in the padded order) and together
// cover the order. With world_size == 1 the order is returned unchanged.
std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int64_t rank, int64_t world_size, bool drop_last);

// ---- splits and stratified samples --------------------------------------------------

struct Split {
  std::vector<int64_t> train;       // ascending
  std::vector<int64_t> validation;  // ascending
};

// Random split of [0, n): validation gets exactly llround(n * validation_fraction)
// indices chosen uniformly, train the rest. validation_fraction in [0, 1].
Split train_validation_split(int64_t n, double validation_fraction, uint64_t seed);

// Split of [0, labels.size()). With stratified == false, as above. With
// stratified == true, class proportions are kept: the validation set has exactly
// V = llround(n * validation_fraction) indices, and class c (n_c samples)
// contributes floor(V * n_c / n) or one more, the extra ones going to the classes
// with the largest remainder of V * n_c / n (ties: the smaller label) until the
// total is V (largest-remainder rounding); each class's train count is the rest
// of it. Within each class the chosen samples are uniform. Labels may be any
// int64 values.
Split train_validation_split(const std::vector<int64_t>& labels, double validation_fraction, uint64_t seed,
                             bool stratified = true);

// k indices (ascending) drawn without replacement with the class proportions of
// `labels`: class c contributes floor(k * n_c / n) or one more (largest remainder,
// ties to the smaller label), so the total is exactly k. 0 <= k <= labels.size().
std::vector<int64_t> stratified_sample(const std::vector<int64_t>& labels, int64_t k, uint64_t seed);
// The same with k = llround(labels.size() * fraction), fraction in [0, 1].
std::vector<int64_t> stratified_sample_fraction(const std::vector<int64_t>& labels, double fraction, uint64_t seed);

// The dataset's targets as class labels: its i64 [N] targets tensor for a
// TensorDataset, otherwise each sample's scalar integer target in order.
// ValueError when a target is not a single integer.
std::vector<int64_t> dataset_labels(const Dataset& dataset);

// ---- SubsetDataset ------------------------------------------------------------------

// The samples base[indices[0]], base[indices[1]], ... as a dataset of their own
// (torch.utils.data.Subset). batch() maps the indices and calls base.batch(), so
// a TensorDataset base keeps its one-memcpy-per-row gather.
class SubsetDataset : public Dataset {
 public:
  // IndexError when an index is outside [0, base->size()).
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t index) const override;
  Batch batch(const std::vector<int64_t>& indices) const override;

  const Dataset& base() const { return *base_; }
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  int64_t base_index(int64_t index, const char* where) const;
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace loom::data
