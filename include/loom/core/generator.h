#pragma once
// A seedable random generator. The same seed gives the same stream on every
// platform (no std:: distributions, whose output is implementation-defined).
#include <cstdint>

#include "loom/core/tensor.h"

namespace loom {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eed) { manual_seed(seed); }
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  uint64_t next_u64();         // xoshiro256**
  double uniform();            // [0, 1)
  double normal();             // N(0, 1), Box-Muller
  uint64_t below(uint64_t n);  // uniform integer in [0, n), unbiased

  // Filled tensors (f32 unless a dtype is given), drawn by the random_fill kernels.
  Tensor uniform_tensor(const Shape& shape, double low, double high, DType dtype = DType::f32,
                        Device device = default_device());
  Tensor normal_tensor(const Shape& shape, double mean, double stddev, DType dtype = DType::f32,
                       Device device = default_device());

 private:
  uint64_t s_[4];
  uint64_t seed_ = 0;
  bool has_spare_ = false;
  double spare_ = 0;
};

// The process-wide generator used when none is passed.
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace loom
