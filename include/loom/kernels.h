#pragma once
#include "loom/kernels/elementwise.h"
#include "loom/kernels/fused.h"
#include "loom/kernels/gemm.h"
#include "loom/kernels/half.h"
#include "loom/kernels/nn_kernels.h"
#include "loom/kernels/reduce.h"
#include "loom/kernels/registry.h"
