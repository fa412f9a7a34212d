// The prefetching DataLoader: same batches for any worker count, clean shutdown,
// errors from workers (NOTE [Ordered prefetch]).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "loom/core/generator.h"
#include "loom/data/data_loader.h"

namespace loom::data {
namespace {

// Random images [n, 1, 8, 8]; target i == i, so batches reveal their samples.
std::shared_ptr<TensorDataset> images(int64_t n) {
  Generator g(99);
  return std::make_shared<TensorDataset>(g.uniform_tensor({n, 1, 8, 8}, 0, 1), Tensor::arange(n));
}

// Delegates to a base dataset, sleeping in batch() and recording which threads call it.
class SlowDataset : public Dataset {
 public:
  SlowDataset(std::shared_ptr<const Dataset> base, std::chrono::microseconds delay)
      : base_(std::move(base)), delay_(delay) {}
  int64_t size() const override { return base_->size(); }
  Example get(int64_t i) const override { return base_->get(i); }
  Batch batch(const std::vector<int64_t>& indices) const override {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(delay_);
    return base_->batch(indices);
  }
  mutable std::atomic<int> calls{0};
  mutable std::set<std::thread::id> threads;

 private:
  std::shared_ptr<const Dataset> base_;
  std::chrono::microseconds delay_;
  mutable std::mutex mutex_;
};

TransformList augmentations() {
  return {std::make_shared<RandomCrop>(8, 2), std::make_shared<RandomHorizontalFlip>(),
          std::make_shared<Normalize>(std::vector<float>{0.5f}, std::vector<float>{0.29f})};
}

struct Drained {
  std::vector<std::vector<float>> inputs;
  std::vector<std::vector<int64_t>> targets;
};

Drained drain(DataLoader& loader) {
  Drained d;
  while (auto b = loader.next()) {
    d.inputs.push_back(b->input.to_vector<float>());
    d.targets.push_back(b->target.to_vector<int64_t>());
  }
  return d;
}

bool bitwise_equal(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  }
  return true;
}

TEST(LoaderWorkers, SameSeedGivesBitwiseIdenticalBatchesForAnyWorkerCount) {
  auto ds = images(300);
  std::map<int, std::vector<Drained>> runs;
  for (int workers : {0, 1, 3}) {
    DataLoader loader(
        ds, {.batch_size = 32, .shuffle = true, .seed = 5, .num_workers = workers, .transforms = augmentations()});
    for (int64_t epoch : {0, 1}) {
      loader.set_epoch(epoch);
      runs[workers].push_back(drain(loader));
    }
  }
  for (int workers : {1, 3}) {
    for (size_t e = 0; e < 2; ++e) {
      EXPECT_EQ(runs[workers][e].targets, runs[0][e].targets) << workers << " workers, epoch " << e;
      EXPECT_TRUE(bitwise_equal(runs[workers][e].inputs, runs[0][e].inputs)) << workers << " workers, epoch " << e;
    }
  }
  EXPECT_FALSE(bitwise_equal(runs[0][0].inputs, runs[0][1].inputs)) << "epochs should differ";
}

TEST(LoaderWorkers, AugmentationOfASampleDoesNotDependOnBatchSize) {
  auto ds = images(50);
  auto by_sample = [&](int64_t batch_size, int workers) {
    DataLoader loader(
        ds,
        {.batch_size = batch_size, .shuffle = true, .seed = 2, .num_workers = workers, .transforms = augmentations()});
    loader.set_epoch(3);
    std::map<int64_t, std::vector<float>> out;
    while (auto b = loader.next()) {
      auto x = b->input.to_vector<float>();
      auto t = b->target.to_vector<int64_t>();
      for (size_t i = 0; i < t.size(); ++i)
        out[t[i]].assign(x.begin() + static_cast<long>(i * 64), x.begin() + static_cast<long>((i + 1) * 64));
    }
    return out;
  };
  auto a = by_sample(7, 0), b = by_sample(16, 2);
  ASSERT_EQ(a.size(), 50u);
  EXPECT_EQ(a, b) << "NOTE [Per-sample generators]";
}

TEST(LoaderWorkers, EverySampleExactlyOncePerEpochAndDropLast) {
  auto ds = images(103);
  DataLoader loader(ds, {.batch_size = 10, .shuffle = true, .seed = 7, .num_workers = 3, .prefetch = 2});
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    loader.set_epoch(epoch);
    Drained d = drain(loader);
    ASSERT_EQ(d.targets.size(), 11u);
    EXPECT_EQ(d.targets.back().size(), 3u);
    std::vector<int64_t> all;
    for (auto& t : d.targets)
      all.insert(all.end(), t.begin(), t.end());
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < 103; ++i)
      ASSERT_EQ(all[static_cast<size_t>(i)], i);
  }
  DataLoader dropping(ds, {.batch_size = 10, .drop_last = true, .num_workers = 2});
  EXPECT_EQ(dropping.num_batches(), 10);
  Drained d = drain(dropping);
  ASSERT_EQ(d.targets.size(), 10u);
  for (auto& t : d.targets)
    EXPECT_EQ(t.size(), 10u);
}

TEST(LoaderWorkers, ResumingMidEpochGivesTheTail) {
  auto ds = images(100);
  DataLoaderOptions o{.batch_size = 16, .shuffle = true, .seed = 5, .num_workers = 2, .transforms = augmentations()};
  DataLoader full(ds, o);
  full.set_epoch(2);
  Drained all = drain(full);
  DataLoader resumed(ds, o);
  resumed.set_epoch(2, 3);
  Drained rest = drain(resumed);
  ASSERT_EQ(rest.inputs.size(), all.inputs.size() - 3);
  EXPECT_TRUE(bitwise_equal(rest.inputs, {all.inputs.begin() + 3, all.inputs.end()}));
}

TEST(LoaderWorkers, BatchesAreBuiltOnWorkerThreadsWithBoundedPrefetch) {
  auto slow = std::make_shared<SlowDataset>(images(200), std::chrono::microseconds(0));
  DataLoader loader(slow, {.batch_size = 10, .num_workers = 2, .prefetch = 2});
  ASSERT_TRUE(loader.next().has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Batch 0 taken, then 2 kept ahead: batches 1 and 2, nothing further.
  EXPECT_EQ(slow->calls.load(), 3);
  drain(loader);
  EXPECT_EQ(slow->calls.load(), 20);
  EXPECT_EQ(slow->threads.count(std::this_thread::get_id()), 0u) << "workers, not the caller, read the data";
}

TEST(LoaderWorkers, DestroyingOrRestartingMidEpochNeitherHangsNorCrashes) {
  auto slow = std::make_shared<SlowDataset>(images(400), std::chrono::microseconds(300));
  for (int round = 0; round < 50; ++round) {
    DataLoader loader(slow, {.batch_size = 8,
                             .shuffle = true,
                             .seed = static_cast<uint64_t>(round),
                             .num_workers = 1 + round % 3,
                             .transforms = augmentations()});
    loader.set_epoch(round % 4);
    for (int k = 0; k < round % 5; ++k)
      ASSERT_TRUE(loader.next().has_value());
    if (round % 2 == 0) {
      loader.set_epoch(round % 4 + 1, 2);  // restart while workers are busy
      ASSERT_EQ(loader.batch_index(), 2);
      ASSERT_TRUE(loader.next().has_value());
    }
  }  // each loader is destroyed with batches in flight
  DataLoader moved_from(slow, {.batch_size = 8, .num_workers = 2});
  moved_from.set_epoch(0);
  DataLoader moved(std::move(moved_from));
  EXPECT_EQ(drain(moved).targets.size(), 50u);
}

// Throws on the batch holding sample `bad`.
template <typename Exception>
class FailingTransform : public Transform {
 public:
  explicit FailingTransform(int64_t bad) : bad_(bad) {}
  std::string name() const override { return "FailingTransform"; }
  Batch apply(const Batch& b, std::span<Generator>) const override {
    for (int64_t t : b.target.to_vector<int64_t>())
      if (t == bad_)
        throw Exception("cannot augment sample " + std::to_string(t));
    return b;
  }

 private:
  int64_t bad_;
};

TEST(LoaderWorkers, AnExceptionInAWorkerSurfacesFromNext) {
  auto ds = images(100);
  for (int workers : {0, 2}) {
    DataLoader loader(
        ds,
        {.batch_size = 10, .num_workers = workers, .transforms = {std::make_shared<FailingTransform<ValueError>>(45)}});
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(loader.next().has_value());
    try {
      loader.next();
      FAIL() << "batch 4 holds sample 45 and should fail";
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot augment sample 45"), std::string::npos) << e.what();
    }
    EXPECT_EQ(loader.batch_index(), 4) << "the failed batch is not skipped";
    EXPECT_THROW(loader.next(), ValueError) << "a retry rebuilds the batch and fails again";
    loader.set_epoch(0, 5);
    EXPECT_EQ(drain(loader).targets.size(), 5u) << "the loader still works after an error";
  }
  DataLoader foreign(
      ds,
      {.batch_size = 10, .num_workers = 1, .transforms = {std::make_shared<FailingTransform<std::runtime_error>>(3)}});
  try {
    foreign.next();
    FAIL() << "batch 0 holds sample 3";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("batch 0 of epoch 0"), std::string::npos) << what;
    EXPECT_NE(what.find("cannot augment sample 3"), std::string::npos) << what;
  }
}

TEST(LoaderWorkers, ReportsTimeSpentWaitingForData) {
  auto slow = std::make_shared<SlowDataset>(images(40), std::chrono::milliseconds(20));
  for (int workers : {0, 1}) {
    DataLoader loader(slow, {.batch_size = 10, .num_workers = workers});
    loader.set_epoch(0);
    EXPECT_EQ(loader.wait_seconds(), 0.0);
    drain(loader);
    // 4 batches of 20 ms read by one thread: the consumer waits for most of it.
    EXPECT_GT(loader.wait_seconds(), 0.04) << workers << " workers";
    EXPECT_LT(loader.wait_seconds(), 5.0);
    loader.set_epoch(1);
    EXPECT_EQ(loader.wait_seconds(), 0.0) << "set_epoch starts a new count";
  }
}

TEST(LoaderWorkers, BadOptions) {
  auto ds = images(10);
  EXPECT_THROW(DataLoader(ds, {.num_workers = -1}), ValueError);
  EXPECT_THROW(DataLoader(ds, {.num_workers = 1, .prefetch = -1}), ValueError);
  EXPECT_THROW(DataLoader(ds, {.transforms = {nullptr}}), ValueError);
  EXPECT_THROW(DataLoader(ds, {.shuffle_block = -1}), ValueError);
}

}  // namespace
}  // namespace loom::data
