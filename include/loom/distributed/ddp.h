#pragma once
// Synchronous data parallel training (--dist ddp): every rank holds the whole
// model, computes gradients on its shard of the batch, and the gradients are
// averaged over ranks before each optimizer step.
//
// NOTE [DDP buckets]
// The gradient arena (NOTE [Parameter arena]; one per dtype group) is cut into
// buckets of about bucket_bytes, each a contiguous run of whole parameters of one
// dtype, laid out from the last parameter to the first because backward produces
// the last layer's gradients first. Each bucket is averaged in its own dtype
// (MeanReducer: bf16 and f16 through f32). A communication thread all-reduces the buckets strictly in bucket order
// (so every rank issues the same collectives in the same order, whatever order
// its backward finishes parameters in) as soon as each bucket is complete, while
// backward is still computing the earlier layers.
//
// A parameter is complete when the engine has visited every edge into it
// (NOTE [Leaf gradient hooks]): prepare() counts those edges in the loss's graph.
// Parameters that the graph does not reach, and every parameter when the engine
// does not call the hooks, are marked complete by finish(); the result is the same,
// only the overlap is lost. finish() reduces the buckets the thread has not started
// itself, on the calling thread, which has nothing else to do then, instead of
// handing them to the communication thread and waiting to be woken: for the
// reference MLP on 2 ranks x 1 thread, whose 940 KB of gradients are one bucket, the
// wait between backward and the optimizer step fell from a median of 400 us to
// 157 us (docs/BENCHMARKS.md). One bucket runs at a time, claimed in bucket order,
// so the ranks' collectives still match. For the same reason the thread never takes
// the last bucket (it completes when backward returns), and it is woken only when a
// bucket it takes is complete: waking it for every finished parameter cost the MLP's
// backward 20-25 us per layer, and its optimizer step a further 20-30 us, as the woken
// thread took the core from the rank's compute thread.
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "loom/autograd/grad_hooks.h"
#include "loom/distributed/training.h"

namespace loom::distributed {

struct DdpOptions {
  double bucket_mb = 4.0;
  AllreduceAlgorithm algorithm = AllreduceAlgorithm::automatic;
  std::string compress = "none";
  double topk_ratio = 0.01;
  bool overlap = true;  // reduce buckets during backward (false: all after it)
};

class GradientBuckets {
 public:
  GradientBuckets(nn::Module& model, std::shared_ptr<Communicator> comm, DdpOptions options);
  ~GradientBuckets();
  GradientBuckets(const GradientBuckets&) = delete;
  GradientBuckets& operator=(const GradientBuckets&) = delete;

  // Parameters and float buffers from rank 0 to every rank.
  void broadcast_parameters();
  // Before loss.backward(): counts the gradient edges into each parameter.
  void prepare(const Tensor& loss);
  // After loss.backward(): waits until every bucket is averaged over the ranks.
  // Rethrows a communication error (a DistributedError naming the rank).
  void finish();

  int64_t num_buckets() const { return static_cast<int64_t>(buckets_.size()); }
  // Buckets whose reduction started before finish() was called (so while backward
  // was still running, or right after it returned), this or the last step: 0 when
  // the engine does not call the leaf hooks. Read it after finish().
  int64_t overlapped_buckets() const { return overlapped_; }
  // Buckets the communication thread has started this step, at any moment (tests
  // wait on it to see overlap without racing the thread).
  int64_t launched_buckets();
  // Bytes the gradient reductions sent, and what uncompressed f32 would have sent.
  const CompressionReport& traffic() const { return reducer_.total(); }

 private:
  struct Bucket {
    char* base = nullptr;  // its dtype group's gradient arena
    DType dtype = DType::f32;
    int64_t offset = 0, count = 0;  // elements of that arena
    int params = 0;                 // parameters in it
    int pending = 0;                // not yet complete this step
  };
  void on_leaf(const TensorImpl* leaf);
  // With mutex_ held; true when it completed a bucket the communication thread takes.
  bool mark_ready(size_t param_index);
  // The communication thread reduces buckets [0, threaded_buckets()); the last one
  // completes when backward returns, so finish() reduces it.
  int threaded_buckets() const { return static_cast<int>(buckets_.size()) - 1; }
  void reset_step();  // with mutex_ held
  // Reduces bucket next_ (ready, none running) on this thread; lock holds mutex_ and
  // is released during the reduction. False when it failed (error_ is set).
  bool run_next_bucket(std::unique_lock<std::mutex>& lock);
  void comm_loop();

  nn::Module& model_;
  std::shared_ptr<Communicator> comm_;
  DdpOptions options_;
  MeanReducer reducer_;
  std::vector<Tensor> params_;
  std::unordered_map<const TensorImpl*, size_t> index_;
  std::vector<int> bucket_of_;  // per parameter
  std::vector<int> expected_, seen_;
  std::vector<char> done_;  // per parameter, this step
  std::vector<Bucket> buckets_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<char> ready_;
  int next_ = 0;     // next bucket to reduce
  int reduced_ = 0;  // buckets done this step
  bool armed_ = false, stop_ = false, finishing_ = false;
  bool running_ = false;  // a thread is reducing a bucket
  int64_t overlapped_ = 0, launched_ = 0;
  std::exception_ptr error_;
  std::thread thread_;
  std::unique_ptr<autograd::ScopedLeafGradHook> hook_;
};

}  // namespace loom::distributed
