#pragma once
// Transforms: preprocessing and augmentation applied to whole batches by the
// DataLoader's workers.
//
//   using namespace loom::data;
//   DataLoaderOptions o{.batch_size = 64, .shuffle = true, .seed = 1, .num_workers = 2};
//   o.transforms = {std::make_shared<RandomCrop>(28, 4), std::make_shared<RandomHorizontalFlip>(),
//                   std::make_shared<Normalize>(std::vector<float>{0.286f}, std::vector<float>{0.353f})};
//
// NOTE [Per-sample generators]
// A transform gets the batch and one Generator per sample (row). The loader seeds
// sample i's generator from (loader seed, epoch, dataset index of sample i) alone,
// and the transforms of one batch consume it in order, so the augmentation of a
// sample is the same whatever the worker count, batch size, batch position or
// rank. Each random transform draws a fixed number of values per sample (even
// when, say, a flip is not taken), so adding a sample to a batch never shifts
// another sample's draws.
//
// Transforms are shared by all worker threads: apply() must be const and keep no
// mutable state. They never modify their input batch (a dataset's batch() may
// return views of its own storage); each returns fresh tensors.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loom/core/generator.h"
#include "loom/data/dataset.h"

namespace loom::data {

class Transform {
 public:
  virtual ~Transform() = default;
  // For messages, e.g. "RandomCrop(28x28, padding 4)".
  virtual std::string name() const = 0;
  // The transformed batch. rngs[i] belongs to row i; deterministic transforms
  // accept an empty span, random ones require rngs.size() == rows.
  virtual Batch apply(const Batch& batch, std::span<Generator> rngs) const = 0;
};

// A transform written one sample at a time: apply() calls apply_sample for each
// row (a view without the batch axis) and stacks the results, which must agree
// in shape and dtype. Convenient for custom transforms; the built-in image
// transforms work on the whole batch instead.
class SampleTransform : public Transform {
 public:
  virtual Example apply_sample(const Example& sample, Generator& rng) const = 0;
  Batch apply(const Batch& batch, std::span<Generator> rngs) const final;
};

using TransformList = std::vector<std::shared_ptr<Transform>>;

// Applies `transforms` in order (NOTE [Per-sample generators]).
Batch apply_transforms(const TransformList& transforms, Batch batch, std::span<Generator> rngs);

// ---- image transforms on f32 [N, C, H, W] inputs (targets pass through) ------------

// (x - mean[c]) / std[c] per channel c. mean and std have C entries, or one entry
// used for every channel; every std must be > 0.
class Normalize : public Transform {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std);
  std::string name() const override;
  Batch apply(const Batch& batch, std::span<Generator> rngs) const override;

 private:
  std::vector<float> mean_, inv_std_, std_;
};

// Pads each image with `padding` zeros on every side, then takes a height x width
// window at a uniformly random position (torchvision's RandomCrop(size, padding)).
// Draws per sample: top = below(H + 2p - height + 1), then left = below(W + 2p - width + 1).
class RandomCrop : public Transform {
 public:
  RandomCrop(int64_t size, int64_t padding = 0) : RandomCrop(size, size, padding) {}
  RandomCrop(int64_t height, int64_t width, int64_t padding);
  std::string name() const override;
  Batch apply(const Batch& batch, std::span<Generator> rngs) const override;

 private:
  int64_t height_, width_, padding_;
};

// Mirrors each image left-right with probability p. Draws per sample: one uniform().
class RandomHorizontalFlip : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  std::string name() const override;
  Batch apply(const Batch& batch, std::span<Generator> rngs) const override;

 private:
  double p_;
};

}  // namespace loom::data
