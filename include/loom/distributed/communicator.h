#pragma once
// The Communicator: how ranks of a distributed job talk to each other.
//
// NOTE [Communicator]
// Every collective loom's distributed training uses goes through this interface,
// so a NCCL implementation for GPUs can slot in beside the MPI one. Buffers are raw
// pointers plus a dtype (as in NCCL), so device memory fits the same calls.
// Every blocking call has a deadline (timeout_seconds()); a peer that does not
// answer in time raises DistributedError naming the rank that was waited on, and
// the caller then aborts the job rather than hanging.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "loom/core/dtype.h"

namespace loom::distributed {

enum class ReduceOp { sum, max, min };

// Allreduce algorithms: loom's own over point-to-point, or the library's.
enum class AllreduceAlgorithm {
  automatic,           // chosen by message size and rank count
  ring,                // reduce-scatter + allgather, chunked and pipelined: bandwidth-optimal
  recursive_doubling,  // log2(p) exchanges of the whole message: latency-optimal for small ones
  native,              // MPI_Allreduce (or the backend's own)
  shared_memory,       // every rank on one node: through one shared segment (NOTE [Shared-memory allreduce])
};
const char* algorithm_name(AllreduceAlgorithm algorithm);
AllreduceAlgorithm parse_algorithm(const std::string& name);  // "auto", "ring", "rd", "native", "shm"
// What `automatic` picks for a message of `bytes` over `ranks` ranks, `one_node` when
// they all share this machine's memory (NOTE [Allreduce choice]).
AllreduceAlgorithm choose_algorithm(size_t bytes, int ranks, bool one_node = false);
// The choice among the message-passing algorithms (where shared memory is not an option).
AllreduceAlgorithm choose_message_algorithm(size_t bytes, int ranks);
const char* reduce_op_name(ReduceOp op);

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Ranks on this node and this rank's index among them (for the thread budget).
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;

  // Point to point. Tags below 1 << 20 are free for callers; loom's own layers use
  // [kInternalTagBase, 2 * kInternalTagBase).
  static constexpr int kInternalTagBase = 1 << 20;
  virtual void send(const void* src, size_t bytes, int dst_rank, int tag) = 0;
  virtual void recv(void* dst, size_t bytes, int src_rank, int tag) = 0;
  // Sends to one rank and receives from another at once (deadlock-free in rings).
  virtual void sendrecv(const void* src, size_t send_bytes, int dst_rank, void* dst, size_t recv_bytes, int src_rank,
                        int tag) = 0;

  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // In place over `count` elements of `dtype`.
  virtual void allreduce(void* data, int64_t count, DType dtype, ReduceOp op = ReduceOp::sum,
                         AllreduceAlgorithm algorithm = AllreduceAlgorithm::automatic) = 0;
  // src holds sum(counts) elements; rank r receives the reduced block r (counts[r] elements) in dst.
  virtual void reduce_scatter(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype,
                              ReduceOp op = ReduceOp::sum) = 0;
  // Rank r contributes counts[r] elements; every rank receives all blocks in rank order.
  virtual void allgather(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype) = 0;
  virtual void barrier() = 0;

  // NOTE [Process groups]
  // Sub-groups, as MPI_Comm_split: every rank of this communicator calls split
  // (it is a collective), ranks with the same color form one group, ordered by
  // key (then by rank here), and each gets its group's communicator; a negative
  // color puts the rank in no group (nullptr). Groups nest: a tensor-parallel
  // group split from the world, data-parallel groups split across them. A group
  // has its own messages and collectives, so groups never see each other's
  // traffic, and keeps this communicator's timeout.
  virtual std::shared_ptr<Communicator> split(int color, int key) = 0;

  // Stops every rank of the job (after a fatal error on this one).
  [[noreturn]] virtual void abort(const std::string& reason) = 0;

  double timeout_seconds() const { return timeout_seconds_; }
  void set_timeout_seconds(double seconds) { timeout_seconds_ = seconds; }
  // Payload bytes this rank has sent since start (for metrics and compression reports).
  // Our own algorithms count what they send; native collectives count the bytes the
  // equivalent ring would send (an estimate: MPI does not say).
  uint64_t bytes_sent() const { return bytes_sent_.load(std::memory_order_relaxed); }

 protected:
  // The default can be set with LOOM_DIST_TIMEOUT (seconds) in the environment.
  double timeout_seconds_ = 60.0;
  // Atomic so a training thread may read it while the communication thread sends.
  std::atomic<uint64_t> bytes_sent_{0};
};

// True when this process was started by mpirun/mpiexec (the launcher's environment).
bool launched_by_mpi();

// The MPI communicator over MPI_COMM_WORLD; initialises MPI on first use (with
// MPI_THREAD_MULTIPLE so a communication thread can overlap backward) and finalises
// it at exit. Point-to-point calls may come from several threads at once; collectives
// must be called by one thread at a time, in the same order on every rank (as in MPI).
// A process not started by mpirun gets a world of one rank.
std::shared_ptr<Communicator> mpi_world();

// A group of this process alone, without MPI: collectives copy, a send to rank 0
// queues the message until the matching recv (by tag, in order), and a recv with
// none queued is an error. For code written for groups that also runs on one rank.
std::shared_ptr<Communicator> self_communicator();

}  // namespace loom::distributed
