// Algorithm names and the automatic choice.
#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {

const char* algorithm_name(AllreduceAlgorithm algorithm) {
  switch (algorithm) {
    case AllreduceAlgorithm::automatic:
      return "auto";
    case AllreduceAlgorithm::ring:
      return "ring";
    case AllreduceAlgorithm::recursive_doubling:
      return "rd";
    case AllreduceAlgorithm::native:
      return "native";
    case AllreduceAlgorithm::shared_memory:
      return "shm";
  }
  return "?";
}

AllreduceAlgorithm parse_algorithm(const std::string& name) {
  if (name == "auto" || name == "automatic")
    return AllreduceAlgorithm::automatic;
  if (name == "ring")
    return AllreduceAlgorithm::ring;
  if (name == "rd" || name == "recursive_doubling" || name == "recursive-doubling")
    return AllreduceAlgorithm::recursive_doubling;
  if (name == "native" || name == "mpi")
    return AllreduceAlgorithm::native;
  if (name == "shm" || name == "shared_memory" || name == "shared-memory")
    return AllreduceAlgorithm::shared_memory;
  LOOM_THROW(ValueError, "unknown allreduce algorithm '", name, "'; expected auto, ring, rd, native or shm");
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
  }
  return "?";
}

// NOTE [Allreduce choice]
// Measured with `loom bench allreduce --repeat 5` on the 2-core development machine
// (shared memory, busy): with 2 ranks recursive doubling (one exchange of the whole
// message) is ahead up to 64 KiB and level with the ring at 256 KiB, the ring ahead from
// 1 MiB; with 4 ranks recursive doubling is ahead up to 16 KiB, level at 64 KiB, and the
// ring clearly ahead from 256 KiB. Latency dominates below the crossover, bandwidth above.
// When every rank is on this node, the shared-memory allreduce beats all of them at
// every size (docs/BENCHMARKS.md): it moves each byte through memory once each way
// and synchronises with two counter barriers instead of messages. If its segment
// cannot be set up, the communicator falls back to the message-passing choice.
AllreduceAlgorithm choose_message_algorithm(size_t bytes, int ranks) {
  if (ranks <= 1)
    return AllreduceAlgorithm::recursive_doubling;
  const size_t ring_from = ranks == 2 ? size_t{256} * 1024 : size_t{64} * 1024;
  return bytes < ring_from ? AllreduceAlgorithm::recursive_doubling : AllreduceAlgorithm::ring;
}

AllreduceAlgorithm choose_algorithm(size_t bytes, int ranks, bool one_node) {
  if (one_node && ranks > 1)
    return AllreduceAlgorithm::shared_memory;
  return choose_message_algorithm(bytes, ranks);
}

}  // namespace loom::distributed
