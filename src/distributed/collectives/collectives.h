#pragma once
// loom's own collective algorithms over MPI point-to-point (see the Communicator).
#include <cstdint>
#include <vector>

#include "loom/distributed/communicator.h"
#include "mpi_communicator.h"

namespace loom::distributed::detail {

// dst[i] = op(dst[i], src[i]) over n elements; the `src_first` variant computes
// op(src[i], dst[i]) so two ranks reducing the same pair get the same bits.
using ReduceFn = void (*)(void* dst, const void* src, int64_t n);
// Throws NotImplementedError for dtypes collectives do not reduce (f32, f64, i64, i32 do).
ReduceFn reduce_function(DType dtype, ReduceOp op, bool src_first = false);
// The MPI datatype and op for the native path.
MPI_Datatype mpi_datatype(DType dtype);
MPI_Op mpi_op(ReduceOp op);

// Ring over p blocks: block b is elements [offsets[b], offsets[b+1]) of data. The
// reduce-scatter phase leaves the fully reduced block r on rank r; the allgather phase
// passes block r from rank r to everyone. Each block is cut into segments that are
// sent, received and reduced in a pipeline (NOTE [Pipelined ring]).
void ring_run(MpiCommunicator& comm, char* data, const std::vector<int64_t>& offsets, size_t elem_size, ReduceFn reduce,
              bool reduce_scatter, bool allgather, OpContext ctx);
// Allreduce of count elements with blocks as even as possible.
void ring_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce, OpContext ctx);
// log2(p) exchanges of the whole buffer; p not a power of two folds the extra ranks
// into their neighbours first.
void recursive_doubling_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce,
                                  ReduceFn reduce_src_first, OpContext ctx);

// Segment size of the pipelined ring (LOOM_RING_SEGMENT_KB overrides it).
size_t ring_segment_bytes();
// Allreduce through a shared-memory segment mapped by every rank of the node
// (NOTE [Shared-memory allreduce]); maps it on first use. Returns false, on every
// rank alike, when the segment cannot be set up (the caller then uses messages).
bool shm_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce, OpContext ctx);

}  // namespace loom::distributed::detail
