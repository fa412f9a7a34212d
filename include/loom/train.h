#pragma once
// The training layer: Trainer (one loop for one process and every distributed
// strategy), callbacks, evaluation and prediction.
#include "loom/train/callback.h"
#include "loom/train/callbacks.h"
#include "loom/train/evaluation.h"
#include "loom/train/trainer.h"
