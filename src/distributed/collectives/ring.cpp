// The pipelined ring: reduce-scatter then allgather, each block cut into segments.
#include <algorithm>
#include <cstdlib>

#include "collectives.h"
#include "loom/core/error.h"

namespace loom::distributed::detail {

// NOTE [Pipelined ring]
// Rank r owns block r. Reduce-scatter step s sends block r-s-1 to the right neighbour and
// receives block r-s-2 from the left one, reducing it into its own copy; after p-1 steps
// block r is complete on rank r. Allgather step s sends block r-s and receives block
// r-s-1 straight into place. The block received in one step is the block sent in the
// next, so instead of finishing a step before starting the next, every block is cut
// into segments and each segment is forwarded as soon as it has been reduced: while
// segment k is reduced, segment k+1 is on the wire. Receives for step s+1 are posted
// before step s is waited on (double-buffered scratch), so a neighbour's segments always
// land in a posted buffer. Messages between two ranks on one tag match in posting order,
// which is what lets every segment share one tag. Only this rank's own waits poll MPI,
// and every wait has the communicator's deadline.
size_t ring_segment_bytes() {
  static const size_t bytes = [] {
    if (const char* env = std::getenv("LOOM_RING_SEGMENT_KB")) {
      long kb = std::strtol(env, nullptr, 10);
      if (kb > 0)
        return static_cast<size_t>(kb) * 1024;
    }
    // Measured (bench/distributed/compare_allreduce.sh, three rounds of 256 KiB, 1 MiB
    // and 4 MiB segments): 1 MiB was ahead at 64 MiB (1.89-2.14x MPI with 2 ranks
    // against 1.72-1.79x for 256 KiB) and no worse at 4 MiB; fewer segments mean fewer
    // rendezvous handshakes, and 1 MiB still leaves several per block to overlap.
    return size_t{1024} * 1024;
  }();
  return bytes;
}

namespace {

struct PendingSend {
  MPI_Request request;
  int block;
};

}  // namespace

void ring_run(MpiCommunicator& comm, char* data, const std::vector<int64_t>& offsets, size_t elem_size, ReduceFn reduce,
              bool reduce_scatter, bool allgather, OpContext ctx) {
  const int p = comm.size(), r = comm.rank();
  if (p == 1)
    return;
  LOOM_ASSERT(static_cast<int>(offsets.size()) == p + 1);
  const int left = (r + p - 1) % p, right = (r + 1) % p;
  auto mod = [p](int x) { return ((x % p) + p) % p; };
  int64_t max_block = 0;
  for (int b = 0; b < p; ++b)
    max_block = std::max(max_block, offsets[b + 1] - offsets[b]);
  if (max_block == 0)
    return;
  const int64_t seg_elems = std::max<int64_t>(1, static_cast<int64_t>(ring_segment_bytes() / elem_size));
  const int nseg = static_cast<int>((max_block + seg_elems - 1) / seg_elems);
  // Segment k of block b: every rank cuts the same way, so empty segments are skipped
  // on both sides of a message.
  auto seg_begin = [&](int b, int k) {
    int64_t n = offsets[b + 1] - offsets[b];
    return offsets[b] + n * k / nseg;
  };
  auto seg_len = [&](int b, int k) { return seg_begin(b, k + 1) - seg_begin(b, k); };
  auto seg_ptr = [&](int b, int k) { return data + static_cast<size_t>(seg_begin(b, k)) * elem_size; };

  std::vector<PendingSend> sends;
  sends.reserve(static_cast<size_t>(4 * nseg));
  auto post_send = [&](int b, int k) {
    int64_t n = seg_len(b, k);
    if (n == 0)
      return;
    if (sends.size() >= static_cast<size_t>(4 * nseg)) {  // drop finished sends now and then
      std::erase_if(sends, [](PendingSend& s) {
        int done = 0;
        check_mpi(MPI_Test(&s.request, &done, MPI_STATUS_IGNORE), "MPI_Test");
        return done != 0;
      });
    }
    sends.push_back({comm.isend(seg_ptr(b, k), static_cast<size_t>(n) * elem_size, right, kRingTag), b});
  };
  // A block is overwritten by the allgather only after this rank's sends from it finished.
  auto wait_block_sends = [&](int b) {
    for (PendingSend& s : sends)
      if (s.block == b)
        comm.wait(&s.request, right, ctx);
  };

  const int steps = p - 1;
  char* tmp[2] = {nullptr, nullptr};
  if (reduce_scatter) {
    LOOM_ASSERT(reduce != nullptr);
    const size_t block_bytes = static_cast<size_t>(max_block) * elem_size;
    tmp[0] = comm.scratch(2 * block_bytes);
    tmp[1] = tmp[0] + block_bytes;
  }
  std::vector<MPI_Request> rs_recvs[2], ag_recvs[2];
  auto rs_recv_block = [&](int s) { return mod(r - s - 2); };
  auto ag_recv_block = [&](int s) { return mod(r - s - 1); };
  auto post_rs_recvs = [&](int s) {
    int b = rs_recv_block(s);
    auto& reqs = rs_recvs[s & 1];
    reqs.assign(static_cast<size_t>(nseg), MPI_REQUEST_NULL);
    for (int k = 0; k < nseg; ++k)
      if (int64_t n = seg_len(b, k))
        reqs[k] = comm.irecv(tmp[s & 1] + static_cast<size_t>(seg_begin(b, k) - offsets[b]) * elem_size,
                             static_cast<size_t>(n) * elem_size, left, kRingTag);
  };
  auto post_ag_recvs = [&](int s) {
    int b = ag_recv_block(s);
    wait_block_sends(b);
    auto& reqs = ag_recvs[s & 1];
    reqs.assign(static_cast<size_t>(nseg), MPI_REQUEST_NULL);
    for (int k = 0; k < nseg; ++k)
      if (int64_t n = seg_len(b, k))
        reqs[k] = comm.irecv(seg_ptr(b, k), static_cast<size_t>(n) * elem_size, left, kRingTag);
  };

  ctx.steps = steps;
  if (reduce_scatter) {
    ctx.phase = "reduce-scatter";
    post_rs_recvs(0);
    for (int k = 0; k < nseg; ++k)
      post_send(mod(r - 1), k);
    for (int s = 0; s < steps; ++s) {
      ctx.step = s;
      if (s + 1 < steps)
        post_rs_recvs(s + 1);
      else if (allgather)
        post_ag_recvs(0);
      const int b = rs_recv_block(s);
      char* t = tmp[s & 1];
      for (int k = 0; k < nseg; ++k) {
        comm.wait(&rs_recvs[s & 1][k], left, ctx);
        if (int64_t n = seg_len(b, k))
          reduce(seg_ptr(b, k), t + static_cast<size_t>(seg_begin(b, k) - offsets[b]) * elem_size, n);
        if (s + 1 < steps || allgather)  // forward: next reduce-scatter step, or allgather step 0
          post_send(b, k);
      }
    }
  }
  if (allgather) {
    ctx.phase = "allgather";
    if (!reduce_scatter) {
      post_ag_recvs(0);
      for (int k = 0; k < nseg; ++k)
        post_send(r, k);
    }
    for (int s = 0; s < steps; ++s) {
      ctx.step = s;
      if (s + 1 < steps)
        post_ag_recvs(s + 1);
      const int b = ag_recv_block(s);
      for (int k = 0; k < nseg; ++k) {
        comm.wait(&ag_recvs[s & 1][k], left, ctx);
        if (s + 1 < steps)
          post_send(b, k);
      }
    }
  }
  ctx.phase = "last sends";
  ctx.step = -1;
  for (PendingSend& s : sends)
    comm.wait(&s.request, right, ctx);
}

void ring_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce,
                    OpContext ctx) {
  const int p = comm.size();
  std::vector<int64_t> offsets(static_cast<size_t>(p) + 1, 0);
  for (int b = 0; b < p; ++b)
    offsets[b + 1] = offsets[b] + count / p + (b < count % p ? 1 : 0);
  ring_run(comm, static_cast<char*>(data), offsets, elem_size, reduce, true, true, ctx);
}

}  // namespace loom::distributed::detail
