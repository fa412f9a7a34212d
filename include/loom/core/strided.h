#pragma once
// Iteration over N operands that share one shape but have their own strides.
// Dimensions that are contiguous for every operand are merged first, so a
// contiguous tensor becomes one run and the callback sees long inner loops.
#include <array>
#include <cstdint>

#include "loom/core/shape.h"

namespace loom {

template <size_t N>
struct StridedRuns {
  Shape shape;                   // coalesced shape, innermost last
  std::array<Shape, N> strides;  // in elements

  StridedRuns(const Shape& s, const std::array<Shape, N>& st) {
    for (size_t d = 0; d < s.size(); ++d) {
      if (s[d] == 1)
        continue;  // size-1 dims never move the pointer
      bool merge = !shape.empty();
      for (size_t k = 0; merge && k < N; ++k) {
        merge = strides[k].back() == st[k][d] * s[d];
      }
      if (merge) {
        shape.back() *= s[d];
        for (size_t k = 0; k < N; ++k)
          strides[k].back() = st[k][d];
      } else {
        shape.push_back(s[d]);
        for (size_t k = 0; k < N; ++k)
          strides[k].push_back(st[k][d]);
      }
    }
    if (shape.empty()) {  // a scalar, or all dims of size 1: one run of length 1
      shape.push_back(1);
      for (size_t k = 0; k < N; ++k)
        strides[k].push_back(0);
    }
  }

  // fn(offsets, n, inner_strides): offsets[k] is operand k's element offset of the
  // run's first element; the run has n elements, stepping inner_strides[k].
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (int64_t d : shape)
      if (d == 0)
        return;
    const size_t nd = shape.size();
    const int64_t inner = shape[nd - 1];
    std::array<int64_t, N> inner_strides{}, offsets{};
    for (size_t k = 0; k < N; ++k)
      inner_strides[k] = strides[k][nd - 1];
    Shape counter(nd, 0);
    while (true) {
      fn(offsets, inner, inner_strides);
      size_t d = nd - 1;
      while (d-- > 0) {
        ++counter[d];
        for (size_t k = 0; k < N; ++k)
          offsets[k] += strides[k][d];
        if (counter[d] < shape[d])
          break;
        for (size_t k = 0; k < N; ++k)
          offsets[k] -= strides[k][d] * shape[d];
        counter[d] = 0;
        if (d == 0)
          return;
      }
      if (nd == 1)
        return;
    }
  }
};

}  // namespace loom
