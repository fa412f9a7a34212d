// Allreduce through one shared-memory segment when every rank is on this node.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "collectives.h"
#include "loom/core/error.h"

namespace loom::distributed::detail {

// NOTE [Shared-memory allreduce]
// MPI point-to-point between ranks of one node copies every byte twice per ring step
// (into the receiver's buffer, then reduced into place), and each message pays a
// rendezvous. Here rank 0 creates one POSIX shared-memory segment that every rank maps:
// per rank a 64-byte arrival counter and two slots of kSlotBytes. A chunk of the
// message is cut into one slice per rank and goes: (1) each rank copies the slices the
// others reduce into its slot; (2) barrier; (3) rank k reduces slice k in its own
// buffer (its own values first, then the others' slots in rank order), so each element
// is reduced once and every rank gets the same bits, and copies the result into its
// slot; (4) barrier; (5) each rank copies every other slice from the slot of the rank
// that reduced it. A rank's own slice never goes through memory twice. Slots alternate between
// chunks, so no third barrier is needed: a rank writes a slot again only after the next
// chunk's first barrier, which every rank passes only after finishing its copies out
// of it. Barriers spin on the counters with the communicator's deadline; a rank that
// dies or stops answering is named in the error. The segment is unlinked as soon as
// every rank has mapped it, so nothing outlives the job.
namespace {

constexpr size_t kSlotBytes = size_t{1} << 20;
constexpr size_t kHeaderBytes = 4096;  // the arrival counter, alone on its page
constexpr size_t kRankBytes = kHeaderBytes + 2 * kSlotBytes;

using Clock = std::chrono::steady_clock;

struct Header {
  alignas(64) std::atomic<uint64_t> arrived{0};
};

std::atomic<uint64_t>& arrived(char* rank_base) { return reinterpret_cast<Header*>(rank_base)->arrived; }

}  // namespace

struct SharedSegment {
  char* base = nullptr;
  size_t bytes = 0;
  int ranks = 0;
  uint64_t epoch = 0;   // barriers passed so far (the same count on every rank)
  uint64_t chunks = 0;  // chunks reduced so far: picks the slot
  char* rank_base(int r) const { return base + static_cast<size_t>(r) * kRankBytes; }
  char* slot(int r, uint64_t chunk) const { return rank_base(r) + kHeaderBytes + (chunk & 1) * kSlotBytes; }
  ~SharedSegment() {
    if (base)
      munmap(base, bytes);
  }
};

namespace {

// Maps the segment on every rank, or on none: all ranks learn whether all succeeded.
std::shared_ptr<SharedSegment> map_segment(MpiCommunicator& comm, MPI_Comm coll, OpContext ctx) {
  const int p = comm.size(), r = comm.rank();
  const size_t bytes = kRankBytes * static_cast<size_t>(p);
  char name[64] = {0};
  int ok = 1;
  bool created = false;  // rank 0: this job owns `name` (never unlink another job's)
  if (r == 0) {
    std::snprintf(name, sizeof name, "/loom-allreduce-%d-%lld", static_cast<int>(getpid()),
                  static_cast<long long>(Clock::now().time_since_epoch().count() & 0xffffffff));
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    created = fd >= 0;
    // posix_fallocate reserves the pages now: a full /dev/shm fails here, not as a
    // SIGBUS on first touch.
    ok = created && posix_fallocate(fd, 0, static_cast<off_t>(bytes)) == 0;
    if (created)
      close(fd);
  }
  MPI_Request req;
  check_mpi(MPI_Ibcast(name, sizeof name, MPI_CHAR, 0, coll, &req), "MPI_Ibcast");
  comm.wait(&req, 0, ctx, false);
  check_mpi(MPI_Ibcast(&ok, 1, MPI_INT, 0, coll, &req), "MPI_Ibcast");
  comm.wait(&req, 0, ctx, false);
  auto seg = std::make_shared<SharedSegment>();
  if (ok) {
    int fd = shm_open(name, O_RDWR, 0600);
    void* m = fd >= 0 ? mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    if (fd >= 0)
      close(fd);
    ok = m != MAP_FAILED;
    if (ok) {
      seg->base = static_cast<char*>(m);
      seg->bytes = bytes;
    }
  }
  int all = ok;
  check_mpi(MPI_Iallreduce(&ok, &all, 1, MPI_INT, MPI_MIN, coll, &req), "MPI_Iallreduce");
  comm.wait(&req, -1, ctx, false);
  if (created)
    shm_unlink(name);  // every rank has it mapped (or gave up): the name is no longer needed
  if (!all)
    return nullptr;
  seg->ranks = p;
  return seg;
}

// A rank spinning here must still drive MPI's progress engine: a peer can be
// waiting for its last ring sends to complete, which needs this rank's MPI library
// to acknowledge them (seen as a deadlock between a ring and the next shm call).
void barrier(SharedSegment& seg, int me, MPI_Comm coll, double timeout_s, const OpContext& ctx) {
  const uint64_t target = ++seg.epoch;
  arrived(seg.rank_base(me)).store(target, std::memory_order_release);
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  for (int r = 0; r < seg.ranks; ++r) {
    std::atomic<uint64_t>& a = arrived(seg.rank_base(r));
    for (int polls = 0; a.load(std::memory_order_acquire) < target; ++polls) {
      if (polls < 256)
        continue;
      std::this_thread::yield();  // ranks may outnumber cores
      if ((polls & 63) == 0) {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, coll, &flag, MPI_STATUS_IGNORE);
      }
      if ((polls & 255) == 0 && Clock::now() >= deadline) {
        std::vector<int> late;
        for (int q = 0; q < seg.ranks; ++q)
          if (arrived(seg.rank_base(q)).load(std::memory_order_acquire) < target)
            late.push_back(q);
        std::ostringstream os;
        os << (late.size() == 1 ? "rank " : "ranks ");
        for (size_t i = 0; i < late.size(); ++i)
          os << (i ? ", " : "") << late[i];
        os << " did not answer within " << timeout_s << " s during " << ctx.op << " #" << ctx.seq << " ("
           << ctx.algorithm << ") on rank " << me
           << "; raise the limit with set_timeout_seconds() or LOOM_DIST_TIMEOUT if the peer is just slow";
        LOOM_THROW(DistributedError, os.str());
      }
    }
  }
}

}  // namespace

bool shm_allreduce(MpiCommunicator& comm, void* data, int64_t count, size_t elem_size, ReduceFn reduce, OpContext ctx) {
  if (comm.shm_unavailable)
    return false;
  if (!comm.shm_segment) {
    comm.shm_segment = map_segment(comm, comm.collective_comm(), ctx);
    if (!comm.shm_segment) {
      comm.shm_unavailable = true;
      return false;
    }
  }
  SharedSegment* seg = comm.shm_segment.get();
  const int p = comm.size(), me = comm.rank();
  char* bytes = static_cast<char*>(data);
  const int64_t chunk_elems = static_cast<int64_t>(kSlotBytes / elem_size);
  for (int64_t off = 0; off < count; off += chunk_elems) {
    const int64_t n = std::min(chunk_elems, count - off);
    const uint64_t c = seg->chunks++;
    char* mine = seg->slot(me, c);
    char* user = bytes + off * elem_size;
    auto slice_lo = [&](int k) { return n * k / p; };
    auto span = [&](int k) { return static_cast<size_t>(slice_lo(k + 1) - slice_lo(k)) * elem_size; };
    auto at = [&](char* base, int k) { return base + slice_lo(k) * elem_size; };
    // Publish the slices the others reduce; this rank's own slice stays in its buffer.
    for (int r = 0; r < p; ++r)
      if (r != me)
        std::memcpy(at(mine, r), at(user, r), span(r));
    barrier(*seg, me, comm.collective_comm(), comm.timeout_seconds(), ctx);
    // Reduce the own slice in place (own values first, then the others in rank order)
    // and publish the result.
    if (span(me) > 0) {
      for (int r = 0; r < p; ++r)
        if (r != me)
          reduce(at(user, me), at(seg->slot(r, c), me), slice_lo(me + 1) - slice_lo(me));
      std::memcpy(at(mine, me), at(user, me), span(me));
    }
    barrier(*seg, me, comm.collective_comm(), comm.timeout_seconds(), ctx);
    for (int r = 0; r < p; ++r)
      if (r != me)
        std::memcpy(at(user, r), at(seg->slot(r, c), r), span(r));
  }
  // What crossed between processes: each rank's slot is read for p-1 slices and each
  // reduced slice is read by p-1 ranks, the ring's 2 (p-1)/p of the message.
  comm.count_sent(2 * static_cast<uint64_t>(count) * elem_size * static_cast<uint64_t>(p - 1) /
                  static_cast<uint64_t>(p));
  return true;
}

}  // namespace loom::distributed::detail
