#pragma once
// `loom train --model linear|logistic --data FILE.csv --target COL`: linear or
// logistic regression by full-batch gradient descent, distributed over the ranks
// of an mpirun job (loom/distributed/linear_models.h) or in one process.
#include <string>

namespace loom::cli {

struct TrainOptions;

// True for the --model names this path handles.
bool is_linear_model(const std::string& model);
int run_linear_train(const TrainOptions& options);

}  // namespace loom::cli
