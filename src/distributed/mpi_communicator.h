#pragma once
// The MPI implementation of Communicator, shared by the collective algorithms in
// collectives/ (which post their own non-blocking point-to-point messages through it).
#include <mpi.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loom/distributed/communicator.h"

namespace loom::distributed::detail {

using Clock = std::chrono::steady_clock;

// What a blocking call is doing, for the timeout message. Strings are literals.
struct OpContext {
  const char* op = "";              // "allreduce", "recv", ...
  const char* algorithm = nullptr;  // "ring", "recursive doubling", "MPI" or none
  bool collective = false;          // collectives run the stall diagnosis on timeout
  uint64_t seq = 0;                 // collective sequence number, the same on every rank
  const char* phase = nullptr;      // "reduce-scatter", "allgather", ...
  int step = -1, steps = 0;         // step (0-based) of `steps`, or -1
  int tag = -1;                     // point to point: the caller's tag
};

void check_mpi(int rc, const char* what);

// Tags on the collective communicator (users never see it, so any tag is free).
inline constexpr int kRingTag = 1;
inline constexpr int kDoublingTag = 2;
inline constexpr int kCompressedTag = 3;

struct SharedSegment;

class MpiCommunicator final : public Communicator {
 public:
  // Wraps MPI_COMM_WORLD, or `parent` (duplicated); MPI must be initialised.
  MpiCommunicator();
  explicit MpiCommunicator(MPI_Comm parent);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void send(const void* src, size_t bytes, int dst_rank, int tag) override;
  void recv(void* dst, size_t bytes, int src_rank, int tag) override;
  void sendrecv(const void* src, size_t send_bytes, int dst_rank, void* dst, size_t recv_bytes, int src_rank,
                int tag) override;
  void broadcast(void* data, size_t bytes, int root) override;
  void allreduce(void* data, int64_t count, DType dtype, ReduceOp op, AllreduceAlgorithm algorithm) override;
  void reduce_scatter(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype,
                      ReduceOp op) override;
  void allgather(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype) override;
  void barrier() override;
  std::shared_ptr<Communicator> split(int color, int key) override;
  [[noreturn]] void abort(const std::string& reason) override;

  // --- For the algorithms in collectives/ -------------------------------------------
  // Non-blocking messages on the private collective communicator; bytes <= INT_MAX.
  // Sends add to bytes_sent().
  MPI_Request isend(const void* src, size_t bytes, int dst_rank, int tag);
  MPI_Request irecv(void* dst, size_t bytes, int src_rank, int tag);
  // Waits for `request`, polling so that oversubscribed ranks progress. When nothing
  // completes within timeout_seconds(), throws DistributedError naming `peer` (the rank
  // this one waits for) and, for collectives, the ranks that stopped answering.
  // A point-to-point request that times out is cancelled (a collective's cannot be).
  void wait(MPI_Request* request, int peer, const OpContext& ctx, bool cancel_on_timeout = true);
  void wait_all(std::vector<MPI_Request>& requests, int peer, const OpContext& ctx);
  // A context for the next collective (numbers it).
  OpContext begin_collective(const char* op, const char* algorithm);
  // Scratch memory reused across calls (collectives run one at a time).
  char* scratch(size_t bytes);
  char* scratch2(size_t bytes);
  void count_sent(uint64_t bytes) { bytes_sent_.fetch_add(bytes, std::memory_order_relaxed); }
  std::mutex& collective_mutex() { return collective_mutex_; }
  MPI_Comm collective_comm() const { return coll_comm_; }
  // Every rank of the job shares this node's memory.
  bool one_node() const { return local_size_ == size_; }
  // The shared-memory allreduce's segment (NOTE [Shared-memory allreduce]): null until
  // first mapped; `shm_unavailable` once setting it up failed on some rank.
  std::shared_ptr<SharedSegment> shm_segment;
  bool shm_unavailable = false;

 private:
  [[noreturn]] void throw_timeout(int peer, const OpContext& ctx, double waited_s);
  void send_stall_probes(const OpContext& ctx);
  std::vector<int> silent_ranks(const OpContext& ctx);
  void wait_native(MPI_Request* request, const OpContext& ctx);

  MPI_Comm user_comm_ = MPI_COMM_NULL;   // send/recv/sendrecv with the caller's tags
  MPI_Comm coll_comm_ = MPI_COMM_NULL;   // our algorithms' messages and native collectives
  MPI_Comm probe_comm_ = MPI_COMM_NULL;  // stall probes (NOTE [Stall diagnosis])
  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  uint64_t seq_ = 0;
  std::vector<char> scratch_, scratch2_;
  std::mutex collective_mutex_;
};

}  // namespace loom::distributed::detail
