#pragma once
// The CPU backend's registration, split by file (register_cpu_kernels calls these).
#include "kernel_lists.h"

namespace loom::kernels {

void register_cpu_tensor_kernels(KernelLists& lists);     // tensor_kernels_cpu.cpp
void register_cpu_optimizer_updates(KernelLists& lists);  // optimizer_updates_cpu.cpp
void register_cpu_quantize_kernels(KernelLists& lists);   // quantize_cpu.cpp

}  // namespace loom::kernels
