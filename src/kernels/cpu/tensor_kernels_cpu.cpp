// The CPU's copy, cast, fill and random-fill kernels (loom/core/tensor_kernels.h).
#include <cmath>
#include <cstring>

#include "cpu_backend.h"
#include "loom/core/strided.h"

namespace loom::kernels {
namespace {

std::string declines_unless_cpu(const Tensor& a, const Tensor& b = Tensor()) {
  if (!a.device().is_cpu())
    return "tensor is on " + a.device().str();
  if (b.defined() && !b.device().is_cpu())
    return "tensor is on " + b.device().str();
  return "";
}

void copy_cpu(const Tensor& src, const Tensor& dst) {
  const size_t es = dtype_size(dst.dtype());
  char* d = static_cast<char*>(dst.raw_data());
  const char* s = static_cast<const char*>(src.raw_data());
  StridedRuns<2> runs(dst.shape(), {dst.strides(), src.strides()});
  runs.for_each([&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& inc) {
    if (inc[0] == 1 && inc[1] == 1) {
      std::memcpy(d + off[0] * es, s + off[1] * es, static_cast<size_t>(n) * es);
    } else if (es == sizeof(float)) {
      float* dp = reinterpret_cast<float*>(d) + off[0];
      const float* sp = reinterpret_cast<const float*>(s) + off[1];
      for (int64_t i = 0; i < n; ++i)
        dp[i * inc[0]] = sp[i * inc[1]];
    } else {
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(d + (off[0] + i * inc[0]) * es, s + (off[1] + i * inc[1]) * es, es);
    }
  });
}

// Through double, which holds every value of every dtype loom has exactly.
void cast_cpu(const Tensor& src, const Tensor& dst) {
  const DType st = src.dtype(), dt = dst.dtype();
  char* d = static_cast<char*>(dst.raw_data());
  const char* s = static_cast<const char*>(src.raw_data());
  StridedRuns<2> runs(dst.shape(), {dst.strides(), src.strides()});
  runs.for_each([&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& inc) {
    for (int64_t i = 0; i < n; ++i)
      store_from_double(d, dt, off[0] + i * inc[0], load_as_double(s, st, off[1] + i * inc[1]));
  });
}

void fill_cpu(const Tensor& dst, double value) {
  if (dst.numel() == 0)
    return;
  if (dst.is_contiguous() && value == 0.0 && !std::signbit(value)) {  // zeros: all-zero bits in every dtype
    std::memset(dst.raw_data(), 0, dst.nbytes());
    return;
  }
  if (dst.is_contiguous() && dst.dtype() == DType::f32) {  // the hot case: gradient arenas
    float* p = dst.data<float>();
    std::fill(p, p + dst.numel(), static_cast<float>(value));
    return;
  }
  char* d = static_cast<char*>(dst.raw_data());
  StridedRuns<1> runs(dst.shape(), {dst.strides()});
  runs.for_each([&](const std::array<int64_t, 1>& off, int64_t n, const std::array<int64_t, 1>& inc) {
    for (int64_t i = 0; i < n; ++i)
      store_from_double(d, dst.dtype(), off[0] + i * inc[0], value);
  });
}

void random_fill_cpu(const Tensor& dst, const RandomFill& how, Generator& gen) {
  void* d = dst.raw_data();
  const DType dt = dst.dtype();
  const int64_t n = dst.numel();
  switch (how.kind) {
    case RandomFill::Kind::uniform:
      for (int64_t i = 0; i < n; ++i)
        store_from_double(d, dt, i, how.a + (how.b - how.a) * gen.uniform());
      return;
    case RandomFill::Kind::normal:
      for (int64_t i = 0; i < n; ++i)
        store_from_double(d, dt, i, how.a + how.b * gen.normal());
      return;
    case RandomFill::Kind::bernoulli: {
      // Raw 53-bit draws against a threshold: no per-element conversion.
      const uint64_t threshold = static_cast<uint64_t>(std::ceil(how.a * 0x1.0p53));
      auto draw = [&](auto* m) {
        using T = std::remove_pointer_t<decltype(m)>;
        const T keep = static_cast<T>(how.b);
        for (int64_t i = 0; i < n; ++i)
          m[i] = (gen.next_u64() >> 11) >= threshold ? keep : T(0);
      };
      if (dt == DType::f32)
        draw(static_cast<float*>(d));
      else if (dt == DType::f64)
        draw(static_cast<double*>(d));
      else
        for (int64_t i = 0; i < n; ++i)
          store_from_double(d, dt, i, (gen.next_u64() >> 11) >= threshold ? how.b : 0.0);
      return;
    }
  }
}

}  // namespace

void register_cpu_tensor_kernels(KernelLists& lists) {
  lists.copy.add(
      DeviceType::CPU, "cpu_strided", [](const Tensor& s, const Tensor& d) { return declines_unless_cpu(s, d); },
      copy_cpu);
  lists.cast.add(
      DeviceType::CPU, "cpu_strided", [](const Tensor& s, const Tensor& d) { return declines_unless_cpu(s, d); },
      cast_cpu);
  lists.fill.add(
      DeviceType::CPU, "cpu_strided", [](const Tensor& d, double) { return declines_unless_cpu(d); }, fill_cpu);
  lists.random_fill.add(
      DeviceType::CPU, "cpu_sequential",
      [](const Tensor& d, const RandomFill&, Generator&) -> std::string {
        if (std::string why = declines_unless_cpu(d); !why.empty())
          return why;
        return d.is_contiguous() ? "" : "destination is not contiguous";
      },
      random_fill_cpu);
}

}  // namespace loom::kernels
