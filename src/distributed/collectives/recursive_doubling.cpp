// Recursive doubling: log2(p) exchanges of the whole buffer, for small messages.
#include <algorithm>

#include "collectives.h"
#include "loom/core/error.h"

namespace loom::distributed::detail {
namespace {

constexpr size_t kMaxChunk = size_t{1} << 30;  // MPI counts are int

void exchange(MpiCommunicator& comm, char* data, char* tmp, size_t bytes, int partner, const OpContext& ctx) {
  MPI_Request recv = comm.irecv(tmp, bytes, partner, kDoublingTag);
  MPI_Request send = comm.isend(data, bytes, partner, kDoublingTag);
  comm.wait(&recv, partner, ctx);
  comm.wait(&send, partner, ctx);
}

void doubling_chunk(MpiCommunicator& comm, char* data, int64_t count, size_t elem_size, ReduceFn reduce,
                    ReduceFn reduce_src_first, OpContext ctx) {
  const int p = comm.size(), r = comm.rank();
  const size_t bytes = static_cast<size_t>(count) * elem_size;
  char* tmp = comm.scratch(bytes);
  int p2 = 1;
  while (p2 * 2 <= p)
    p2 *= 2;
  const int extra = p - p2;
  // Ranks below 2*extra pair up (even, odd); the even one hands its data to the odd
  // one and sits out the exchanges, then gets the result back.
  int vrank;
  if (r < 2 * extra) {
    ctx.phase = "fold";
    if (r % 2 == 0) {
      MPI_Request send = comm.isend(data, bytes, r + 1, kDoublingTag);
      comm.wait(&send, r + 1, ctx);
      vrank = -1;
    } else {
      MPI_Request recv = comm.irecv(tmp, bytes, r - 1, kDoublingTag);
      comm.wait(&recv, r - 1, ctx);
      reduce_src_first(data, tmp, count);  // op(lower rank, higher rank)
      vrank = r / 2;
    }
  } else {
    vrank = r - extra;
  }
  if (vrank >= 0) {
    ctx.phase = "exchange";
    ctx.steps = 0;
    for (int m = 1; m < p2; m <<= 1)
      ++ctx.steps;
    ctx.step = 0;
    for (int mask = 1; mask < p2; mask <<= 1, ++ctx.step) {
      const int vpartner = vrank ^ mask;
      const int partner = vpartner < extra ? vpartner * 2 + 1 : vpartner + extra;
      exchange(comm, data, tmp, bytes, partner, ctx);
      // Both partners compute op(lower rank's data, higher rank's data): the same bits.
      (partner < r ? reduce_src_first : reduce)(data, tmp, count);
    }
    ctx.step = -1;
  }
  if (r < 2 * extra) {
    ctx.phase = "unfold";
    if (r % 2 == 0) {
      MPI_Request recv = comm.irecv(data, bytes, r + 1, kDoublingTag);
      comm.wait(&recv, r + 1, ctx);
    } else {
      MPI_Request send = comm.isend(data, bytes, r - 1, kDoublingTag);
      comm.wait(&send, r - 1, ctx);
    }
  }
}

}  // namespace

void recursive_doubling_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce,
                                  ReduceFn reduce_src_first, OpContext ctx) {
  if (comm.size() == 1 || count == 0)
    return;
  const int64_t chunk = static_cast<int64_t>(kMaxChunk / elem_size);
  char* p = static_cast<char*>(data);
  for (int64_t off = 0; off < count; off += chunk)
    doubling_chunk(comm, p + static_cast<size_t>(off) * elem_size, std::min(chunk, count - off), elem_size, reduce,
                   reduce_src_first, ctx);
}

}  // namespace loom::distributed::detail
