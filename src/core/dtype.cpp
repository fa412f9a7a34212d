#include "loom/core/dtype.h"

#include <array>

#include "loom/core/error.h"

namespace loom {
namespace {
struct DTypeInfo {
  const char* name;
  const char* long_name;
  size_t size;
  bool floating;
};
constexpr std::array<DTypeInfo, static_cast<size_t>(DType::kCount)> kInfo = {{
    {"f32", "float32", 4, true},
    {"f64", "float64", 8, true},
    {"i64", "int64", 8, false},
    {"i32", "int32", 4, false},
    {"i8", "int8", 1, false},
    {"u8", "uint8", 1, false},
    {"bf16", "bfloat16", 2, true},
    {"f16", "float16", 2, true},
}};
const DTypeInfo& info(DType t) {
  auto i = static_cast<size_t>(t);
  LOOM_ASSERT(i < kInfo.size());
  return kInfo[i];
}
}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
const char* dtype_name(DType t) { return info(t).name; }
bool is_floating(DType t) { return info(t).floating; }

DType dtype_from_name(const std::string& name) {
  for (size_t i = 0; i < kInfo.size(); ++i) {
    if (name == kInfo[i].name || name == kInfo[i].long_name)
      return static_cast<DType>(i);
  }
  LOOM_THROW(ValueError, "unknown dtype '", name, "'; expected one of f32, f64, i64, i32, i8, u8, bf16, f16");
}

}  // namespace loom
