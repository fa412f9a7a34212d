#pragma once
// The data layer: IDX files, datasets, Fashion-MNIST and the DataLoader.
//
//   auto train = loom::data::load_fashion_mnist();  // f32 [60000, 1, 28, 28], i64 [60000]
//   loom::data::DataLoader loader(train, {.batch_size = 64, .shuffle = true, .seed = 1});
//   for (int64_t epoch = 0; epoch < 3; ++epoch) {
//     loader.set_epoch(epoch);  // the order is a function of (seed, epoch) alone
//     while (auto batch = loader.next()) { /* batch->input, batch->target */ }
//   }
#include "loom/data/data_loader.h"
#include "loom/data/dataset.h"
#include "loom/data/idx.h"
#include "loom/data/mnist.h"
#include "loom/data/sampling.h"
#include "loom/data/shards.h"
#include "loom/data/tabular/csv.h"
#include "loom/data/tabular/describe.h"
#include "loom/data/tabular/pipeline.h"
#include "loom/data/tabular/schema.h"
#include "loom/data/tabular/step.h"
#include "loom/data/tabular/table.h"
#include "loom/data/text.h"
#include "loom/data/transforms.h"
