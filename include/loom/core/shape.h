#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace loom {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);
// Wraps a possibly negative axis into [0, ndim); throws IndexError naming `what`.
int64_t normalize_axis(int64_t axis, int64_t ndim, const char* what = "axis");
// NumPy broadcasting of two shapes; throws ValueError naming `op` when they don't broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace loom
