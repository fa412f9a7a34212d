#include "loom/data/transforms.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "loom/core/error.h"

namespace loom::data {
namespace {

// The batch's input as a contiguous f32 [N, C, H, W] tensor, or a ValueError naming the transform.
Tensor image_input(const Batch& batch, const std::string& who) {
  const Tensor& x = batch.input;
  LOOM_CHECK(x.defined(), who, ": the batch has no input tensor");
  LOOM_CHECK(x.dtype() == DType::f32 && x.dim() == 4, who, ": expected f32 images [N, C, H, W], got ",
             dtype_name(x.dtype()), " ", shape_str(x.shape()), "; image transforms need a [N, C, H, W] input");
  return x.contiguous();
}

void check_rngs(std::span<Generator> rngs, int64_t rows, const std::string& who) {
  LOOM_CHECK(static_cast<int64_t>(rngs.size()) == rows, who, ": needs one generator per sample, got ", rngs.size(),
             " for a batch of ", rows, " (NOTE [Per-sample generators])");
}

Tensor row(const Tensor& t, int64_t i) {
  Shape shape(t.shape().begin() + 1, t.shape().end());
  Shape strides(t.strides().begin() + 1, t.strides().end());
  return t.as_strided(shape, strides, t.offset() + i * t.strides()[0]);
}

}  // namespace

Batch apply_transforms(const TransformList& transforms, Batch batch, std::span<Generator> rngs) {
  for (const auto& t : transforms) {
    LOOM_CHECK(t != nullptr, "apply_transforms: the transform list holds a null transform");
    batch = t->apply(batch, rngs);
  }
  return batch;
}

// ---- SampleTransform ----------------------------------------------------------------

Batch SampleTransform::apply(const Batch& batch, std::span<Generator> rngs) const {
  const int64_t n = batch.input.size(0);
  check_rngs(rngs, n, name());
  Batch out;
  for (int64_t i = 0; i < n; ++i) {
    Example e = apply_sample({row(batch.input, i), row(batch.target, i)}, rngs[static_cast<size_t>(i)]);
    if (i == 0) {
      Shape in_shape = e.input.shape(), tg_shape = e.target.shape();
      in_shape.insert(in_shape.begin(), n);
      tg_shape.insert(tg_shape.begin(), n);
      out = {Tensor::empty(in_shape, e.input.dtype()), Tensor::empty(tg_shape, e.target.dtype())};
    }
    Tensor in_row = row(out.input, i), tg_row = row(out.target, i);
    if (e.input.shape() != in_row.shape() || e.input.dtype() != in_row.dtype() || e.target.shape() != tg_row.shape() ||
        e.target.dtype() != tg_row.dtype()) {
      LOOM_THROW(ValueError, name(), ": sample ", i, " became ", dtype_name(e.input.dtype()), " ",
                 shape_str(e.input.shape()), " / ", dtype_name(e.target.dtype()), " ", shape_str(e.target.shape()),
                 " but sample 0 became ", dtype_name(in_row.dtype()), " ", shape_str(in_row.shape()), " / ",
                 dtype_name(tg_row.dtype()), " ", shape_str(tg_row.shape()),
                 "; a per-sample transform must give every sample one shape and dtype");
    }
    strided_copy(e.input, in_row);
    strided_copy(e.target, tg_row);
  }
  return out;
}

// ---- Normalize ----------------------------------------------------------------------

Normalize::Normalize(std::vector<float> mean, std::vector<float> std) : mean_(std::move(mean)), std_(std::move(std)) {
  LOOM_CHECK(!mean_.empty() && mean_.size() == std_.size(), "Normalize: mean has ", mean_.size(), " entries and std ",
             std_.size(), "; give one of each per channel (or one each for all channels)");
  for (size_t c = 0; c < std_.size(); ++c) {
    LOOM_CHECK(std_[c] > 0, "Normalize: std[", c, "] is ", std_[c], " but must be > 0");
    inv_std_.push_back(1.0f / std_[c]);
  }
}

std::string Normalize::name() const {
  std::ostringstream os;
  os << "Normalize(mean [";
  for (size_t c = 0; c < mean_.size(); ++c)
    os << (c ? ", " : "") << mean_[c];
  os << "], std [";
  for (size_t c = 0; c < std_.size(); ++c)
    os << (c ? ", " : "") << std_[c];
  os << "])";
  return os.str();
}

Batch Normalize::apply(const Batch& batch, std::span<Generator>) const {
  const Tensor src = image_input(batch, name());
  const int64_t n = src.size(0), channels = src.size(1), plane = src.size(2) * src.size(3);
  LOOM_CHECK(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == channels, name(), ": has ", mean_.size(),
             " channel statistics but the images have ", channels, " channels (input ", shape_str(src.shape()), ")");
  Tensor dst = Tensor::empty(src.shape(), DType::f32);
  const float* s = src.data<float>();
  float* d = dst.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < channels; ++c) {
      const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(c);
      const float m = mean_[k], sd = std_[k];
      const float* sp = s + (i * channels + c) * plane;
      float* dp = d + (i * channels + c) * plane;
      // A division, not a multiply by 1/std, so results match torchvision's to the bit.
      for (int64_t j = 0; j < plane; ++j)
        dp[j] = (sp[j] - m) / sd;
    }
  }
  return {dst, batch.target};
}

// ---- RandomCrop ---------------------------------------------------------------------

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding)
    : height_(height), width_(width), padding_(padding) {
  LOOM_CHECK(height >= 1 && width >= 1, "RandomCrop: the crop size must be positive, got ", height, "x", width);
  LOOM_CHECK(padding >= 0, "RandomCrop: padding must be >= 0, got ", padding);
}

std::string RandomCrop::name() const {
  std::ostringstream os;
  os << "RandomCrop(" << height_ << "x" << width_ << ", padding " << padding_ << ")";
  return os.str();
}

Batch RandomCrop::apply(const Batch& batch, std::span<Generator> rngs) const {
  const Tensor src = image_input(batch, name());
  const int64_t n = src.size(0), channels = src.size(1), h = src.size(2), w = src.size(3);
  const int64_t p = padding_;
  LOOM_CHECK(height_ <= h + 2 * p && width_ <= w + 2 * p, name(), ": the crop does not fit in ", h, "x", w,
             " images padded by ", p, " (", h + 2 * p, "x", w + 2 * p, ")");
  check_rngs(rngs, n, name());
  Tensor dst = Tensor::empty({n, channels, height_, width_}, DType::f32);
  const float* s = src.data<float>();
  float* d = dst.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    Generator& rng = rngs[static_cast<size_t>(i)];
    const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(h + 2 * p - height_ + 1)));
    const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(w + 2 * p - width_ + 1)));
    // Output (y, x) reads source (y + y0, x + x0); outside the image it is padding (zero).
    const int64_t y0 = top - p, x0 = left - p;
    const int64_t x_lo = std::clamp<int64_t>(-x0, 0, width_), x_hi = std::clamp<int64_t>(w - x0, x_lo, width_);
    for (int64_t c = 0; c < channels; ++c) {
      const float* sp = s + (i * channels + c) * h * w;
      float* dp = d + (i * channels + c) * height_ * width_;
      for (int64_t y = 0; y < height_; ++y, dp += width_) {
        const int64_t sy = y + y0;
        if (sy < 0 || sy >= h) {
          std::fill(dp, dp + width_, 0.0f);
          continue;
        }
        std::fill(dp, dp + x_lo, 0.0f);
        std::memcpy(dp + x_lo, sp + sy * w + x_lo + x0, static_cast<size_t>(x_hi - x_lo) * sizeof(float));
        std::fill(dp + x_hi, dp + width_, 0.0f);
      }
    }
  }
  return {dst, batch.target};
}

// ---- RandomHorizontalFlip -----------------------------------------------------------

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  LOOM_CHECK(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
}

std::string RandomHorizontalFlip::name() const {
  std::ostringstream os;
  os << "RandomHorizontalFlip(p " << p_ << ")";
  return os.str();
}

Batch RandomHorizontalFlip::apply(const Batch& batch, std::span<Generator> rngs) const {
  const Tensor src = image_input(batch, name());
  const int64_t n = src.size(0), w = src.size(3);
  const int64_t rows_per_image = src.size(1) * src.size(2);
  check_rngs(rngs, n, name());
  Tensor dst = Tensor::empty(src.shape(), DType::f32);
  const float* s = src.data<float>();
  float* d = dst.data<float>();
  const int64_t image = rows_per_image * w;
  for (int64_t i = 0; i < n; ++i) {
    const bool flip = rngs[static_cast<size_t>(i)].uniform() < p_;
    const float* sp = s + i * image;
    float* dp = d + i * image;
    if (!flip) {
      std::memcpy(dp, sp, static_cast<size_t>(image) * sizeof(float));
      continue;
    }
    for (int64_t r = 0; r < rows_per_image; ++r, sp += w, dp += w) {
      for (int64_t x = 0; x < w; ++x)
        dp[x] = sp[w - 1 - x];
    }
  }
  return {dst, batch.target};
}

}  // namespace loom::data
