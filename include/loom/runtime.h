#pragma once
#include "loom/runtime/executor.h"
#include "loom/runtime/parallel.h"
#include "loom/runtime/task_pool.h"
