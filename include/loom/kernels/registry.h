#pragma once
// The kernel families' lists (NOTE [Kernel lists] in loom/core/kernel_list.h).
#include "loom/core/kernel_list.h"

namespace loom::kernels {
using ::loom::KernelList;
using ::loom::log_kernel_choice;
using ::loom::verbose_kernels;
}  // namespace loom::kernels
