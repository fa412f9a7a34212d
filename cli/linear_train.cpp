// `loom train --model linear|logistic` on tabular data (docs/DISTRIBUTED.md,
// "Linear and logistic regression").
#include "linear_train.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "loom/distributed/communicator.h"
#include "loom/distributed/linear_models.h"
#include "loom/io.h"
#include "tabular.h"

namespace loom::cli {
namespace {

struct Quality {
  double loss = 0, accuracy = 0, rmse = 0, r2 = 0;
};

// Mean log-loss and accuracy (logistic) or squared error, RMSE and R^2 (linear).
Quality assess(const distributed::LinearModel& m, const std::vector<double>& x, const std::vector<double>& y,
               bool logistic) {
  Quality q;
  const size_t n = y.size(), d = m.weights.size();
  if (n == 0)
    return q;
  double correct = 0, sq = 0, mean = 0, var = 0;
  for (size_t i = 0; i < n; ++i) {
    const double z = m.predict(x.data() + i * d);
    if (logistic) {
      q.loss += (z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z))) - y[i] * z;
      correct += (z > 0 ? 1.0 : 0.0) == y[i];
    } else {
      sq += (z - y[i]) * (z - y[i]);
      mean += y[i];
    }
  }
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i)
    var += (y[i] - mean) * (y[i] - mean);
  q.loss = logistic ? q.loss / static_cast<double>(n) : 0.5 * sq / static_cast<double>(n);
  q.accuracy = correct / static_cast<double>(n);
  q.rmse = std::sqrt(sq / static_cast<double>(n));
  q.r2 = var > 0 ? 1.0 - sq / var : 0.0;
  return q;
}

}  // namespace

bool is_linear_model(const std::string& model) { return model == "linear" || model == "logistic"; }

int run_linear_train(const TrainOptions& o) {
  const bool logistic = o.model == "logistic";
  const std::string what = logistic ? "logistic regression" : "linear regression";
  LOOM_CHECK(is_csv_path(o.data_dir), "--model ", o.model, " trains on tabular data: --data must be a CSV file, got '",
             o.data_dir, "'");
  const std::string& dist = o.dist.dist;
  LOOM_CHECK(dist == "auto" || dist == "none" || dist == "ddp", "--model ", o.model,
             " sums the ranks' full-batch gradients every iteration; --dist ", dist, " does not apply (use ddp)");
  LOOM_CHECK(o.dist.compress == "none", "--compress ", o.dist.compress, " with --model ", o.model,
             ": an iteration sends features + 3 doubles, there is nothing to compress");
  LOOM_CHECK(o.save_path.empty() && o.checkpoint_path.empty() && o.resume_path.empty(),
             "--save, --checkpoint and --resume are not supported with --model ", o.model,
             " (full-batch gradient descent); the fitted weights are written to --metrics");
  std::shared_ptr<distributed::Communicator> comm;
  if (distributed::launched_by_mpi() && dist != "none") {
    comm = distributed::mpi_world();
    comm->set_timeout_seconds(o.dist.comm_timeout);
  }
  const int rank = comm ? comm->rank() : 0, world = comm ? comm->size() : 1;
  const bool root = rank == 0, quiet = o.quiet || !root;

  // Every rank reads the file and fits the pipeline on the same training split (both
  // deterministic), then keeps its contiguous block of the training rows.
  TabularData t = load_tabular(o.data_dir, {o.skip_rows, !o.no_header, o.delimiter[0]}, o.target, o.pipeline,
                               logistic ? "classify" : "regress", o.validation, o.seed);
  if (logistic)
    LOOM_CHECK(t.meta.classes.size() == 2, "--model logistic needs a target with two classes; '", o.target, "' has ",
               t.meta.classes.size(), "; use --model mlp for more");
  const Tensor& x_all = t.train->inputs();
  const int64_t n = x_all.size(0), d = x_all.size(1);
  auto [begin, end] = distributed::row_range(n, rank, world);
  const std::vector<double> xv = x_all.to_vector<double>(), yv = t.train->targets().to_vector<double>();
  Tensor x = Tensor::from_vector(std::vector<double>(xv.begin() + begin * d, xv.begin() + end * d), {end - begin, d});
  Tensor y = Tensor::from_vector(std::vector<double>(yv.begin() + begin, yv.begin() + end), {end - begin});

  distributed::LinearModelOptions lm;
  lm.logistic = logistic;
  lm.lr = o.lr.value_or(logistic ? 0.5 : 0.1);
  // Full-batch gradient descent takes one step an iteration: --steps and --epochs both count them.
  lm.iterations = o.steps.value_or(o.epochs.value_or(100));
  lm.l2 = o.weight_decay;
  if (!quiet) {
    std::printf("%s: %lld training rows, %lld features after preprocessing%s\n", o.data_dir.c_str(),
                static_cast<long long>(n), static_cast<long long>(d),
                logistic ? (", positive class '" + t.meta.classes[1] + "'").c_str() : "");
    std::printf(
        "training %s by full-batch gradient descent: lr %g, %lld iterations (--epochs or --steps), l2 %g, %d rank%s\n",
        what.c_str(), lm.lr, static_cast<long long>(lm.iterations), lm.l2, world, world > 1 ? "s" : "");
  }
  const uint64_t bytes_before = comm ? comm->bytes_sent() : 0;
  const auto t0 = std::chrono::steady_clock::now();
  distributed::LinearModel m;
  try {
    m = distributed::fit_linear_model(x, y, lm, comm.get());
  } catch (const Error& e) {
    if (comm && world > 1) {
      std::fprintf(stderr, "loom: error: rank %d of %d: %s\n", rank, world, e.message().c_str());
      comm->abort(e.message());
    }
    throw;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double final_loss = m.losses.empty() ? 0.0 : m.losses.back();
  // Every rank holds the same losses, so every rank stops here alike.
  LOOM_CHECK(m.losses.empty() || (std::isfinite(final_loss) && final_loss <= 10 * m.losses.front() + 1e-12), what,
             " diverged: the loss went from ", m.losses.empty() ? 0.0 : m.losses.front(), " to ", final_loss,
             " with lr ", lm.lr,
             "; lower --lr or scale the features (--pipeline '{\"steps\": [{\"kind\": ", "\"standard_scale\"}]}')");
  if (!root)
    return 0;
  if (!quiet) {
    const int64_t every = std::max<int64_t>(1, lm.iterations / 5);
    for (size_t i = 0; i < m.losses.size(); i += static_cast<size_t>(every))
      std::printf("iteration %zu/%lld: loss %.6f\n", i + 1, static_cast<long long>(lm.iterations), m.losses[i]);
  }
  const uint64_t bytes = comm ? comm->bytes_sent() - bytes_before : 0;
  nlohmann::json j;
  j["model"] = o.model;
  j["world_size"] = world;
  j["dist"] = world > 1 ? "gd" : "none";
  j["bytes_sent"] = bytes;
  j["iterations"] = lm.iterations;
  j["lr"] = lm.lr;
  j["l2"] = lm.l2;
  j["train_samples"] = n;
  j["train_seconds"] = seconds;
  j["final_loss"] = final_loss;
  j["losses"] = m.losses;
  j["weights"] = m.weights;
  j["bias"] = m.bias;
  if (t.validation && t.validation->size() > 0) {
    const Quality q =
        assess(m, t.validation->inputs().to_vector<double>(), t.validation->targets().to_vector<double>(), logistic);
    const long long rows = static_cast<long long>(t.validation->size());
    if (logistic) {
      std::printf(
          "done: validation accuracy %.2f%% (%lld samples), validation loss %.4f, final train loss %.4f, %.3f s\n",
          100 * q.accuracy, rows, q.loss, final_loss, seconds);
      j["validation_accuracy"] = q.accuracy;
    } else {
      std::printf("done: validation RMSE %.4f, R^2 %.4f (%lld samples), final train loss %.4f, %.3f s\n", q.rmse, q.r2,
                  rows, final_loss, seconds);
      j["validation_rmse"] = q.rmse;
      j["validation_r2"] = q.r2;
    }
    j["validation_loss"] = q.loss;
  } else {
    std::printf("done: final train loss %.4f, %.3f s (no held-out data)\n", final_loss, seconds);
  }
  if (world > 1 && !quiet)
    std::printf("communication: rank 0 sent %.1f KB (%lld iterations of one %lld-double allreduce)\n",
                static_cast<double>(bytes) / 1e3, static_cast<long long>(lm.iterations), static_cast<long long>(d + 3));
  if (!o.metrics_path.empty())
    io::write_text_file_atomically(o.metrics_path, j.dump(2) + "\n");
  return 0;
}

}  // namespace loom::cli
