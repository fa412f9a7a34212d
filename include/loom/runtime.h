#pragma once
#include "loom/runtime/parallel.h"
