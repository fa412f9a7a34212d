#include "loom/data/sampling.h"

#include <algorithm>
#include <cmath>
#include <map>
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

// Salts keep the streams of different uses of one seed apart.
constexpr uint64_t kBlockSalt = 0x6b1f0c4e2d3a5978ull;
constexpr uint64_t kSplitSalt = 0x3c9d2e7f1a0b4865ull;
constexpr uint64_t kSampleSalt = 0x9a4e6c1b7f2d3058ull;

void fisher_yates(int64_t* v, int64_t n, Generator& gen) {
  for (int64_t i = n - 1; i > 0; --i) {
    auto j = static_cast<int64_t>(gen.below(static_cast<uint64_t>(i) + 1));
    std::swap(v[i], v[j]);
  }
}

// k of `pool` uniformly without replacement (a partial Fisher-Yates), ascending.
std::vector<int64_t> choose(std::vector<int64_t> pool, int64_t k, Generator& gen) {
  const auto n = static_cast<int64_t>(pool.size());
  for (int64_t i = 0; i < k; ++i) {
    auto j = i + static_cast<int64_t>(gen.below(static_cast<uint64_t>(n - i)));
    std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
  }
  pool.resize(static_cast<size_t>(k));
  std::sort(pool.begin(), pool.end());
  return pool;
}

void check_fraction(double f, const char* where) {
  LOOM_CHECK(f >= 0.0 && f <= 1.0, where, ": the fraction must be in [0, 1], got ", f);
}

int64_t count_of(int64_t n, double fraction) {
  return static_cast<int64_t>(std::llround(static_cast<double>(n) * fraction));
}

// Class label -> its sample indices (ascending), classes in ascending label order.
std::map<int64_t, std::vector<int64_t>> by_class(const std::vector<int64_t>& labels) {
  std::map<int64_t, std::vector<int64_t>> classes;
  for (size_t i = 0; i < labels.size(); ++i)
    classes[labels[i]].push_back(static_cast<int64_t>(i));
  return classes;
}

// Largest-remainder apportionment of `total` among classes of the given sizes:
// class c gets floor(total * n_c / n) or one more (see sampling.h).
std::vector<int64_t> apportion(int64_t total, const std::vector<int64_t>& sizes, int64_t n) {
  std::vector<int64_t> quota(sizes.size());
  std::vector<__int128> remainder(sizes.size());
  int64_t given = 0;
  for (size_t c = 0; c < sizes.size(); ++c) {
    const __int128 exact = static_cast<__int128>(total) * sizes[c];
    quota[c] = static_cast<int64_t>(exact / n);
    remainder[c] = exact % n;
    given += quota[c];
  }
  std::vector<size_t> rank(sizes.size());
  std::iota(rank.begin(), rank.end(), size_t{0});
  // stable: equal remainders keep ascending label order.
  std::stable_sort(rank.begin(), rank.end(), [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; given < total; ++i, ++given)
    ++quota[rank[i]];
  return quota;
}

std::vector<int64_t> stratified_choice(const std::vector<int64_t>& labels, int64_t k, Generator& gen) {
  const auto n = static_cast<int64_t>(labels.size());
  auto classes = by_class(labels);
  std::vector<int64_t> sizes;
  for (const auto& [label, members] : classes)
    sizes.push_back(static_cast<int64_t>(members.size()));
  std::vector<int64_t> quota = apportion(k, sizes, n);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(k));
  size_t c = 0;
  for (auto& [label, members] : classes) {
    auto picked = choose(std::move(members), quota[c++], gen);
    out.insert(out.end(), picked.begin(), picked.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Split complement_split(int64_t n, std::vector<int64_t> validation) {
  Split s;
  s.train.reserve(static_cast<size_t>(n) - validation.size());
  size_t v = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (v < validation.size() && validation[v] == i)
      ++v;
    else
      s.train.push_back(i);
  }
  s.validation = std::move(validation);
  return s;
}

}  // namespace

std::vector<int64_t> epoch_permutation(int64_t n, uint64_t seed, int64_t epoch) {
  LOOM_CHECK(n >= 0, "epoch_permutation: n must be >= 0, got ", n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  // NOTE [Epoch order]: the generator depends on (seed, epoch) only.
  Generator gen(mix(seed ^ mix(static_cast<uint64_t>(epoch))));
  fisher_yates(order.data(), n, gen);
  return order;
}

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  return mix(mix(mix(seed ^ kSampleSalt) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(index));
}

std::vector<int64_t> block_local_permutation(int64_t n, int64_t block, int64_t window, uint64_t seed, int64_t epoch) {
  LOOM_CHECK(n >= 0, "block_local_permutation: n must be >= 0, got ", n);
  LOOM_CHECK(block >= 1 && window >= 1, "block_local_permutation: block and window must be >= 1, got block ", block,
             " and window ", window);
  Generator gen(mix(seed ^ mix(static_cast<uint64_t>(epoch)) ^ kBlockSalt));
  const int64_t blocks = (n + block - 1) / block;
  std::vector<int64_t> block_order(static_cast<size_t>(blocks));
  std::iota(block_order.begin(), block_order.end(), int64_t{0});
  fisher_yates(block_order.data(), blocks, gen);

  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n));
  for (int64_t g = 0; g < blocks; g += window) {
    const size_t group_begin = order.size();
    for (int64_t k = g; k < std::min(blocks, g + window); ++k) {
      const int64_t lo = block_order[static_cast<size_t>(k)] * block;
      for (int64_t i = lo; i < std::min(n, lo + block); ++i)
        order.push_back(i);
    }
    fisher_yates(order.data() + group_begin, static_cast<int64_t>(order.size() - group_begin), gen);
  }
  return order;
}

std::vector<int64_t> shard_indices(const std::vector<int64_t>& order, int64_t rank, int64_t world_size,
                                   bool drop_last) {
  LOOM_CHECK(world_size >= 1, "shard_indices: world_size must be >= 1, got ", world_size);
  LOOM_CHECK(rank >= 0 && rank < world_size, "shard_indices: rank ", rank, " is outside [0, ", world_size, ")");
  if (world_size == 1)
    return order;
  // NOTE [Rank sharding]
  const auto n = static_cast<int64_t>(order.size());
  const int64_t per_rank = drop_last ? n / world_size : (n + world_size - 1) / world_size;
  std::vector<int64_t> mine(static_cast<size_t>(per_rank));
  for (int64_t i = 0; i < per_rank; ++i) {
    const int64_t pos = rank + i * world_size;  // position in the padded/truncated order
    mine[static_cast<size_t>(i)] = order[static_cast<size_t>(pos % n)];
  }
  return mine;
}

Split train_validation_split(int64_t n, double validation_fraction, uint64_t seed) {
  LOOM_CHECK(n >= 0, "train_validation_split: n must be >= 0, got ", n);
  check_fraction(validation_fraction, "train_validation_split");
  Generator gen(mix(seed ^ kSplitSalt));
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t{0});
  return complement_split(n, choose(std::move(all), count_of(n, validation_fraction), gen));
}

Split train_validation_split(const std::vector<int64_t>& labels, double validation_fraction, uint64_t seed,
                             bool stratified) {
  const auto n = static_cast<int64_t>(labels.size());
  if (!stratified)
    return train_validation_split(n, validation_fraction, seed);
  check_fraction(validation_fraction, "train_validation_split");
  Generator gen(mix(seed ^ kSplitSalt));
  return complement_split(n, stratified_choice(labels, count_of(n, validation_fraction), gen));
}

std::vector<int64_t> stratified_sample(const std::vector<int64_t>& labels, int64_t k, uint64_t seed) {
  const auto n = static_cast<int64_t>(labels.size());
  LOOM_CHECK(k >= 0 && k <= n, "stratified_sample: k must be in [0, ", n, "] (the number of labels), got ", k);
  Generator gen(mix(seed ^ kSplitSalt));
  return stratified_choice(labels, k, gen);
}

std::vector<int64_t> stratified_sample_fraction(const std::vector<int64_t>& labels, double fraction, uint64_t seed) {
  check_fraction(fraction, "stratified_sample_fraction");
  return stratified_sample(labels, count_of(static_cast<int64_t>(labels.size()), fraction), seed);
}

std::vector<int64_t> dataset_labels(const Dataset& dataset) {
  if (const auto* subset = dynamic_cast<const SubsetDataset*>(&dataset)) {
    std::vector<int64_t> base = dataset_labels(subset->base());
    std::vector<int64_t> out;
    out.reserve(subset->indices().size());
    for (int64_t i : subset->indices())
      out.push_back(base[static_cast<size_t>(i)]);
    return out;
  }
  if (const auto* tensors = dynamic_cast<const TensorDataset*>(&dataset)) {
    const Tensor& t = tensors->targets();
    LOOM_CHECK(t.dim() == 1 && !is_floating(t.dtype()), "dataset_labels: the targets are ", dtype_name(t.dtype()), " ",
               shape_str(t.shape()), " but class labels must be one integer per sample ([N], an integer dtype)");
    return t.to(DType::i64).to_vector<int64_t>();
  }
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(dataset.size()));
  for (int64_t i = 0; i < dataset.size(); ++i) {
    Tensor t = dataset.get(i).target;
    LOOM_CHECK(t.numel() == 1 && !is_floating(t.dtype()), "dataset_labels: sample ", i, " has target ",
               dtype_name(t.dtype()), " ", shape_str(t.shape()), " but a class label must be a single integer");
    out.push_back(static_cast<int64_t>(t.item_double()));
  }
  return out;
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  LOOM_CHECK(base_ != nullptr, "SubsetDataset: the base dataset is null");
  const int64_t n = base_->size();
  for (size_t i = 0; i < indices_.size(); ++i) {
    if (indices_[i] < 0 || indices_[i] >= n) {
      LOOM_THROW(IndexError, "SubsetDataset: index ", indices_[i], " (entry ", i, ") is out of range for a base of ", n,
                 " samples");
    }
  }
}

int64_t SubsetDataset::base_index(int64_t index, const char* where) const {
  if (index < 0 || index >= size()) {
    LOOM_THROW(IndexError, where, ": index ", index, " is out of range for ", size(), " samples");
  }
  return indices_[static_cast<size_t>(index)];
}

Example SubsetDataset::get(int64_t index) const { return base_->get(base_index(index, "SubsetDataset")); }

Batch SubsetDataset::batch(const std::vector<int64_t>& indices) const {
  LOOM_CHECK(!indices.empty(), "SubsetDataset::batch: no indices given");
  std::vector<int64_t> mapped(indices.size());
  for (size_t i = 0; i < indices.size(); ++i)
    mapped[i] = base_index(indices[i], "SubsetDataset::batch");
  return base_->batch(mapped);
}

}  // namespace loom::data
