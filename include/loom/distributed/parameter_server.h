#pragma once
// Parameter server (--dist ps): ranks 0..servers-1 hold the parameters, sharded
// as contiguous ranges of the parameter arena, and run the optimizer on them;
// the other ranks train and, every step, push their gradient to each server and
// pull back its updated shard.
//
// NOTE [Parameter server modes]
// A server rank runs one handler thread per worker (blocking point-to-point on
// tags kPsPush/kPsPull). With W workers:
//  - sync: a server waits for the step's gradient from every worker, applies their
//    average once, then answers all pulls: the same update as DDP.
//  - async: every push is applied at once, scaled by 1/W (so an epoch moves the
//    weights about as far as in sync mode), and answered with the current shard.
//    NOTE [Stale gradients]: a push computed on parameters that are tau updates
//    old (tau = updates applied since that worker's last pull) is normal up to
//    tau = W - 1 (every other worker pushed once); beyond that its step is scaled
//    by W / (tau + 1) (staleness-aware SGD, Zhang et al. 2016), so a worker that
//    fell far behind (a descheduled rank) cannot drag the model back.
//    The server's optimizer (momentum included) runs once per push.
//  - ssp (stale synchronous): as async, but the answer to worker w's push at clock
//    c (its c-th step) waits until every worker has pushed at least c - staleness
//    times, so no worker runs more than `staleness` steps ahead of the slowest.
// The learning rate (from the worker's schedule) travels with each push.
// finish() all-gathers the shards so every rank, rank 0 included, has the model.
//
// NOTE [Compressed pushes]
// With --compress a push is [f32 lr][codec payload of the shard's gradient]
// (compression.h's encode/decode_add). The worker keeps one error-feedback
// residual per server, for every lossy codec: it encodes g + residual and keeps
// what the decoded payload missed, so nothing is lost for good (top-k sends only
// a few values per push). A codec's payload size depends only on the value count
// (top-k pads to k pairs), so the server learns it by encoding zeros once. Pulls
// stay f32: they are parameters, not gradients, and error feedback cannot apply.
#include <memory>
#include <vector>

#include "loom/distributed/training.h"

namespace loom::distributed {

inline constexpr int kPsPush = 7101;
inline constexpr int kPsPull = 7102;

class ParameterServer {
 public:
  // Uses options.servers, ps_mode, staleness, optimizer(_options), compress, topk_ratio.
  ParameterServer(nn::Module& model, std::shared_ptr<Communicator> comm, const DistOptions& options);
  ~ParameterServer();
  bool is_server() const { return comm_->rank() < servers_; }
  int workers() const { return comm_->size() - servers_; }
  // Parameters from rank 0 to everyone; servers take their shard.
  void start();
  // Server ranks: answers total_steps pushes of every worker, then returns.
  void serve(int64_t total_steps);
  // Worker ranks: pushes the gradient arena, pulls the parameters.
  void push_pull(double lr);
  // Every rank gets the final parameters.
  void finish();
  // Workers: bytes their pushes sent against f32 pushes.
  const CompressionReport& traffic() const { return traffic_; }

 private:
  struct Shard;
  nn::Module& model_;
  F32Mirror mirror_;  // NOTE [f32 master copy]
  std::shared_ptr<Communicator> comm_;
  int servers_;
  PsMode mode_;
  int64_t staleness_;
  std::vector<int64_t> lo_, hi_;  // shard s covers arena elements [lo_[s], hi_[s])
  std::unique_ptr<Shard> shard_;
  std::string optimizer_name_;
  optim::OptimizerOptions optimizer_options_;
  std::string compress_;
  double topk_ratio_;
  std::unique_ptr<Compressor> codec_;         // workers: encodes pushes
  std::vector<std::vector<float>> residual_;  // workers: error feedback per server
  std::vector<float> staged_, decoded_;
  std::vector<uint8_t> message_;
  CompressionReport traffic_;
};

}  // namespace loom::distributed
