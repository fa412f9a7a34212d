#include "loom/core/quant_params.h"

#include <algorithm>
#include <climits>
#include <sstream>
#include <utility>

#include "loom/core/error.h"

namespace loom {

bool QuantParams::symmetric() const {
  return std::all_of(zero_points.begin(), zero_points.end(), [](int32_t z) { return z == 0; });
}

std::string QuantParams::str() const {
  std::ostringstream out;
  if (is_per_tensor() && scales.size() == 1)
    out << "per_tensor(scale=" << scales[0] << ", zero_point=" << zero_points[0] << ")";
  else
    out << "per_axis(axis=" << axis << ", " << scales.size() << " scales)";
  return out.str();
}

namespace {
// [min, max] of the integers a quantized dtype holds.
std::pair<int64_t, int64_t> quant_range(DType dtype) {
  switch (dtype) {
    case DType::i8:
      return {-128, 127};
    case DType::u8:
      return {0, 255};
    case DType::i32:
      return {INT32_MIN, INT32_MAX};
    default:
      LOOM_THROW(ValueError, "quantization: ", dtype_name(dtype), " is not a quantized dtype (i8, u8, i32)");
  }
}
}  // namespace

int64_t quant_min(DType dtype) { return quant_range(dtype).first; }
int64_t quant_max(DType dtype) { return quant_range(dtype).second; }

}  // namespace loom
