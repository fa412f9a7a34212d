#pragma once
// Runs a generic lambda for the C++ type of a floating dtype:
//   dispatch_float(t.dtype(), [&]<typename T>() { T* p = t.data<T>(); ... });
#include "loom/core/dtype.h"
#include "loom/core/error.h"

namespace loom {

template <typename Fn>
void dispatch_float(DType dtype, Fn&& fn) {
  switch (dtype) {
    case DType::f32:
      fn.template operator()<float>();
      return;
    case DType::f64:
      fn.template operator()<double>();
      return;
    default:
      LOOM_THROW(ValueError, "expected an f32 or f64 tensor, got ", dtype_name(dtype));
  }
}

}  // namespace loom
