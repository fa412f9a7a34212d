#pragma once
// Distributed training: the strategies `loom train` runs under mpirun, chosen by
// --dist, behind one interface the training loop calls at fixed points.
//
//   auto comm = loom::distributed::mpi_world();
//   loom::distributed::DistOptions d;  // d.mode = DistMode::ddp, ...
//   auto strategy = loom::distributed::make_strategy(d, comm, model, *optimizer);
//   strategy->start();                          // e.g. broadcast parameters from rank 0
//   for (each step) {
//     Tensor loss = ...;
//     optimizer->zero_grad();
//     strategy->before_backward(loss);          // DDP: arm the gradient buckets
//     loss.backward();
//     strategy->step(*optimizer, step);         // reduce/push, update, average
//   }
//   strategy->finish();                         // rank 0 then holds the final model
//
// NOTE [Distributed batch semantics]
// --batch is per rank: every training rank reads its own shard of each epoch
// (DataLoader rank/world_size, NOTE [Rank sharding]) in batches of --batch, so the
// global batch is batch x training ranks, as in PyTorch DDP. Rank r's batch b holds
// positions (b*batch + j)*W + r of the epoch's order, so the union over ranks of
// batch b is exactly the single-process batch b of batch x W samples; since the loss
// is a mean and DDP averages the ranks' gradients, DDP computes the same update as
// one process with the global batch (up to float summation order).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loom/distributed/communicator.h"
#include "loom/distributed/compression.h"
#include "loom/nn/module.h"
#include "loom/optim/optimizer.h"

namespace loom::distributed {

enum class DistMode { none, ddp, ps, localsgd, easgd };
DistMode parse_dist_mode(const std::string& name);  // "none", "ddp", "ps", "localsgd", "easgd"
const char* dist_mode_name(DistMode mode);

enum class PsMode { sync, async, ssp };
PsMode parse_ps_mode(const std::string& name);  // "sync", "async", "ssp"
const char* ps_mode_name(PsMode mode);

struct DistOptions {
  DistMode mode = DistMode::ddp;
  AllreduceAlgorithm algorithm = AllreduceAlgorithm::automatic;
  double bucket_mb = 4.0;  // DDP gradient bucket size
  int64_t sync_every = 8;  // localsgd / easgd: steps between averaging rounds
  PsMode ps_mode = PsMode::sync;
  int64_t staleness = 2;          // ssp: how many clocks a worker may run ahead of the slowest
  int servers = 1;                // ps: ranks 0..servers-1 serve, the rest train
  double easgd_alpha = 0.0;       // 0: 0.9 / training ranks (the paper's beta = 0.9)
  std::string compress = "none";  // none, topk, qsgd, fp16
  double topk_ratio = 0.01;
  std::string optimizer = "sgd";  // ps: the servers' optimizer over their shards
  optim::OptimizerOptions optimizer_options;
};

// Averages float buffers over all ranks, optionally through a gradient codec.
// NOTE [Compressed averaging]
// Without compression: allreduce-sum with the chosen algorithm, then scale by
// 1/size. With a codec (compression.h): compressed_allreduce, then the same
// scaling. Each `stream` (a DDP bucket, a parameter range) is the codec's tensor
// key, so top-k keeps one error-feedback residual per stream: the same stream id
// must be used for the same data every call.
class MeanReducer {
 public:
  MeanReducer(std::shared_ptr<Communicator> comm, AllreduceAlgorithm algorithm, const std::string& compress,
              double topk_ratio);
  ~MeanReducer();
  void mean(float* data, int64_t count, int stream);
  // Any gradient dtype: f32 as above; f64 summed in f64 (no codec); bf16 and f16
  // widened to f32 for the sum (and the codec), then rounded back once.
  void mean(void* data, int64_t count, DType dtype, int stream);
  bool compressed() const { return codec_ != nullptr; }
  // Bytes this rank sent through mean() and what plain f32 would have sent.
  const CompressionReport& total() const { return total_; }
  Communicator& comm() { return *comm_; }

 private:
  std::shared_ptr<Communicator> comm_;
  AllreduceAlgorithm algorithm_;
  std::unique_ptr<Compressor> codec_;  // null: plain f32
  CompressionReport total_;
};

// What one training step works on, for strategies that run the whole step.
struct StepInput {
  nn::Module& model;
  optim::Optimizer& optimizer;
  const Tensor& input;
  const Tensor& target;
  const std::function<Tensor(const Tensor& output, const Tensor& target)>& loss;  // mean over the batch
  int64_t global_step;
};
struct StepOutput {
  Tensor loss;    // the step's mean loss (a scalar)
  Tensor output;  // the model's outputs for the whole batch, [N, ...]
};

// One rank's side of a distributed run. The trainer (loom/train/trainer.h) calls
// run_step once per step; the default runs forward, zero_grad,
// before_backward(loss), loss.backward(), step(optimizer, global_step). A strategy
// that schedules the forward and backward itself (micro-batches, pipeline stages)
// overrides run_step.
class TrainingStrategy {
 public:
  virtual ~TrainingStrategy() = default;
  virtual DistMode mode() const = 0;
  // Before the first step (and after a resume): make the ranks' models agree.
  virtual void start() {}
  // False on a parameter-server rank: it calls serve() instead of training.
  virtual bool trains() const { return true; }
  // Serves `total_steps` steps of every worker (parameter server ranks only).
  virtual void serve(int64_t total_steps) {}
  // One whole training step; see the class comment.
  virtual StepOutput run_step(const StepInput& in);
  virtual void before_backward(const Tensor& loss) {}
  // After backward: reduce gradients (or push them), update, average.
  virtual void step(optim::Optimizer& optimizer, int64_t global_step) = 0;
  // After the last step: every rank (rank 0 at least) holds the final model.
  virtual void finish() {}
  // True where a checkpoint of rank 0's model and optimizer is the whole state.
  virtual bool checkpointable() const { return false; }
  // Training ranks and this rank's index among them (for the data shard).
  virtual int data_rank() const;
  virtual int data_world() const;
  // Human-readable extra settings for the start line, e.g. "bucket 4 MB".
  virtual std::string describe() const { return ""; }
  // What this rank's training traffic cost (bytes_sent) against uncompressed f32
  // (raw_bytes); zero on ranks that only receive.
  virtual CompressionReport traffic() const { return {}; }
  // The ranks this strategy spans; null for a single-process strategy.
  const std::shared_ptr<Communicator>& communicator() const { return comm_; }

 protected:
  explicit TrainingStrategy(std::shared_ptr<Communicator> comm) : comm_(std::move(comm)) {}
  std::shared_ptr<Communicator> comm_;
};

// The strategy for options.mode (not none). The model must be packed
// (Module::pack_parameters) and the optimizer built over its parameters.
std::unique_ptr<TrainingStrategy> make_strategy(const DistOptions& options, std::shared_ptr<Communicator> comm,
                                                nn::Module& model, optim::Optimizer& optimizer);

// NOTE [f32 master copy]
// The parameter server and model averaging keep f32 state of their own (a server's
// shard and its optimizer, the averaging anchor). They see a model's parameters
// and gradients as one flat f32 vector: for a model packed into one f32 arena
// group that is the arena itself (no copy, no extra rounding); for one with other
// or several dtype groups (f64, bf16, f16) it is an f32 copy of every group in
// order, and updated parameters are written back, rounded once to each group's
// dtype. Integer (quantized) parameters are refused by name: they are not trained.
class F32Mirror {
 public:
  // The model must be packed (Module::pack_parameters); `strategy` names the user in errors.
  F32Mirror(nn::Module& model, const char* strategy);
  int64_t size() const { return size_; }
  bool is_arena() const { return direct_; }
  // The parameters as flat f32, refreshed from the model.
  Tensor params();
  // The gradients as flat f32, refreshed from the model.
  Tensor grads();
  // Writes params() (after the caller changed it) back into the model's groups.
  void store_params();

 private:
  Tensor gather(bool gradients, Tensor& buffer);
  nn::Module& model_;
  bool direct_ = false;
  int64_t size_ = 0;
  Tensor params_, grads_;  // the f32 copies (mixed dtypes only)
};
// Rank `root`'s parameters (the packed arena) and float buffers to every rank.
void broadcast_model(Communicator& comm, nn::Module& model, int root = 0);

// Testing aid: LOOM_FAULT_INJECT="rank:step:hang|exit" makes that rank hang (stop
// answering) or exit abruptly before the given global step.
void maybe_inject_fault(int rank, int64_t global_step);

}  // namespace loom::distributed
