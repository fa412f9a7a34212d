#include "loom/kernels/gemm.h"

namespace loom::kernels {

std::string GemmArgs::dtypes_str() const {
  return std::string(dtype_name(a_dtype)) + " x " + dtype_name(b_dtype) + " -> " + dtype_name(c_dtype);
}

}  // namespace loom::kernels
