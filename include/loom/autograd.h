#pragma once
#include "loom/autograd/engine.h"
#include "loom/autograd/grad_mode.h"
#include "loom/autograd/gradcheck.h"
#include "loom/autograd/node.h"
#include "loom/autograd/op_table.h"
#include "loom/autograd/ops.h"
