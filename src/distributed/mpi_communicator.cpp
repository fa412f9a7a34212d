// The MPI communicator: initialisation, point to point, native collectives, and the
// polling wait with a deadline that every blocking call goes through.
#include "mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "collectives/collectives.h"
#include "loom/core/error.h"

namespace loom::distributed {
namespace detail {
namespace {

constexpr int kProbeTag = 7;
// Messages larger than this are split (MPI counts are int).
constexpr size_t kMaxMessage = size_t{1} << 30;

std::string mpi_error_string(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS)
    return "MPI error " + std::to_string(rc);
  return std::string(text, static_cast<size_t>(len));
}

// Backs off from spinning to yielding to short sleeps, so a rank waiting on a peer
// that shares its core (mpirun --oversubscribe) lets the peer run.
class Backoff {
 public:
  void pause() {
    ++polls_;
    if (polls_ < 64)
      return;
    if (polls_ < 2048) {
      std::this_thread::yield();
      return;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }

 private:
  int polls_ = 0;
};

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, s >= 10 ? "%.0f s" : "%.1f s", s);
  return buf;
}

// Time between the stall probes going out and the decision (NOTE [Stall diagnosis]).
double probe_lead_seconds(double timeout) { return std::clamp(timeout * 0.25, 0.2, 10.0); }

std::string describe(const OpContext& ctx) {
  std::ostringstream os;
  os << ctx.op;
  if (ctx.collective)
    os << " #" << ctx.seq;
  bool open = false;
  auto part = [&](const std::string& s) {
    os << (open ? ", " : " (") << s;
    open = true;
  };
  if (ctx.algorithm)
    part(ctx.algorithm);
  if (ctx.phase) {
    std::string p = ctx.phase;
    if (ctx.step >= 0)
      p += " step " + std::to_string(ctx.step + 1) + " of " + std::to_string(ctx.steps);
    part(p);
  } else if (ctx.step >= 0) {
    part("step " + std::to_string(ctx.step + 1) + " of " + std::to_string(ctx.steps));
  }
  if (ctx.tag >= 0)
    part("tag " + std::to_string(ctx.tag));
  if (open)
    os << ")";
  return os.str();
}

}  // namespace

void check_mpi(int rc, const char* what) {
  if (rc != MPI_SUCCESS)
    LOOM_THROW(DistributedError, what, " failed: ", mpi_error_string(rc));
}

MpiCommunicator::MpiCommunicator() : MpiCommunicator(MPI_COMM_WORLD) {}

MpiCommunicator::MpiCommunicator(MPI_Comm parent) {
  check_mpi(MPI_Comm_dup(parent, &user_comm_), "MPI_Comm_dup");
  check_mpi(MPI_Comm_dup(parent, &coll_comm_), "MPI_Comm_dup");
  check_mpi(MPI_Comm_dup(parent, &probe_comm_), "MPI_Comm_dup");
  for (MPI_Comm c : {user_comm_, coll_comm_, probe_comm_})
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
  MPI_Comm_rank(user_comm_, &rank_);
  MPI_Comm_size(user_comm_, &size_);
  MPI_Comm node = MPI_COMM_NULL;
  if (MPI_Comm_split_type(user_comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node) == MPI_SUCCESS &&
      node != MPI_COMM_NULL) {
    MPI_Comm_rank(node, &local_rank_);
    MPI_Comm_size(node, &local_size_);
    MPI_Comm_free(&node);
  }
  if (const char* env = std::getenv("LOOM_DIST_TIMEOUT")) {
    char* end = nullptr;
    double t = std::strtod(env, &end);
    LOOM_CHECK(end != env && *end == '\0' && t > 0, "LOOM_DIST_TIMEOUT: expected a positive number of seconds, got '",
               env, "'");
    timeout_seconds_ = t;
  }
}

// NOTE [Process groups] in communicator.h. The group's three communicators are
// duplicates of the split one, as the world's are of MPI_COMM_WORLD.
std::shared_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  std::lock_guard<std::mutex> lock(collective_mutex_);
  MPI_Comm group = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(user_comm_, color < 0 ? MPI_UNDEFINED : color, key, &group), "MPI_Comm_split");
  if (group == MPI_COMM_NULL)
    return nullptr;
  auto out = std::make_shared<MpiCommunicator>(group);
  MPI_Comm_free(&group);
  out->set_timeout_seconds(timeout_seconds_);
  return out;
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized)
    return;
  for (MPI_Comm* c : {&user_comm_, &coll_comm_, &probe_comm_})
    if (*c != MPI_COMM_NULL)
      MPI_Comm_free(c);
}

// --- Waiting ------------------------------------------------------------------------

// NOTE [Stall diagnosis]
// A rank that waits for a peer only knows which peer it waits for, and in a ring that
// peer is often alive and itself waiting further upstream. So when a collective has made
// no progress for (timeout - lead) seconds, the waiting rank sends a small probe holding
// the collective's sequence number to every other rank on a private communicator, and
// keeps waiting. At the timeout it reads the probes that arrived: every rank stuck in the
// same collective sent one, so the ranks that sent none are the ones that stopped
// answering (hung in computation, or dead). All stuck ranks reach the probe point at
// about the same time because they stall within one pipeline step of each other.
// (Horovod's stall inspector answers the same question with a coordinator.)
void MpiCommunicator::send_stall_probes(const OpContext& ctx) {
  static thread_local uint64_t payload;  // must outlive the freed sends
  payload = ctx.seq;
  for (int q = 0; q < size_; ++q) {
    if (q == rank_)
      continue;
    MPI_Request req;
    if (MPI_Isend(&payload, 1, MPI_UINT64_T, q, kProbeTag, probe_comm_, &req) == MPI_SUCCESS)
      MPI_Request_free(&req);
  }
}

std::vector<int> MpiCommunicator::silent_ranks(const OpContext& ctx) {
  std::vector<bool> answered(static_cast<size_t>(size_), false);
  answered[static_cast<size_t>(rank_)] = true;
  for (;;) {
    int flag = 0;
    MPI_Message msg;
    MPI_Status st;
    if (MPI_Improbe(MPI_ANY_SOURCE, kProbeTag, probe_comm_, &flag, &msg, &st) != MPI_SUCCESS || !flag)
      break;
    uint64_t seq = 0;
    MPI_Mrecv(&seq, 1, MPI_UINT64_T, &msg, MPI_STATUS_IGNORE);
    if (seq >= ctx.seq)  // older probes are from stalls that later resolved
      answered[static_cast<size_t>(st.MPI_SOURCE)] = true;
  }
  std::vector<int> silent;
  for (int q = 0; q < size_; ++q)
    if (!answered[static_cast<size_t>(q)])
      silent.push_back(q);
  return silent;
}

void MpiCommunicator::throw_timeout(int peer, const OpContext& ctx, double waited_s) {
  std::ostringstream os;
  std::string what = describe(ctx);
  std::string within = format_seconds(waited_s);
  if (!ctx.collective) {
    os << "rank " << peer << " did not answer within " << within << " during " << what << " on rank " << rank_;
  } else {
    std::vector<int> silent = silent_ranks(ctx);
    if (!silent.empty()) {
      os << (silent.size() == 1 ? "rank " : "ranks ");
      for (size_t i = 0; i < silent.size(); ++i)
        os << (i ? ", " : "") << silent[i];
      os << " did not answer within " << within << " during " << what;
      if (peer >= 0)
        os << " (rank " << rank_ << " was waiting for rank " << peer << ")";
    } else {
      os << "every rank is waiting in " << what << " after " << within;
      if (peer >= 0)
        os << " (rank " << rank_ << " was waiting for rank " << peer << ")";
      os << "; do all ranks call the same collectives in the same order with the same sizes?";
    }
  }
  os << "; raise the limit with set_timeout_seconds() or LOOM_DIST_TIMEOUT if the peer is just slow";
  LOOM_THROW(DistributedError, os.str());
}

void MpiCommunicator::wait(MPI_Request* request, int peer, const OpContext& ctx, bool cancel_on_timeout) {
  if (*request == MPI_REQUEST_NULL)
    return;
  const double timeout = timeout_seconds_;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout));
  const auto probe_at = deadline - std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(probe_lead_seconds(timeout)));
  bool probed = false;
  Backoff backoff;
  for (int polls = 0;; ++polls) {
    int done = 0;
    check_mpi(MPI_Test(request, &done, MPI_STATUS_IGNORE), ctx.op);
    if (done)
      return;
    if ((polls & 15) == 15) {
      auto now = Clock::now();
      if (ctx.collective && !probed && now >= probe_at) {
        send_stall_probes(ctx);
        probed = true;
      }
      if (now >= deadline) {
        // A point-to-point request is withdrawn so it cannot match a later message;
        // MPI cannot cancel a collective's request (the job is meant to stop then).
        if (cancel_on_timeout) {
          MPI_Cancel(request);
          MPI_Request_free(request);
        }
        throw_timeout(peer, ctx, seconds_between(start, now));
      }
    }
    backoff.pause();
  }
}

void MpiCommunicator::wait_all(std::vector<MPI_Request>& requests, int peer, const OpContext& ctx) {
  for (MPI_Request& r : requests)
    wait(&r, peer, ctx);
  requests.clear();
}

void MpiCommunicator::wait_native(MPI_Request* request, const OpContext& ctx) {
  wait(request, -1, ctx, /*cancel_on_timeout=*/false);
}

OpContext MpiCommunicator::begin_collective(const char* op, const char* algorithm) {
  OpContext ctx;
  ctx.op = op;
  ctx.algorithm = algorithm;
  ctx.collective = true;
  ctx.seq = ++seq_;
  return ctx;
}

MPI_Request MpiCommunicator::isend(const void* src, size_t bytes, int dst_rank, int tag) {
  LOOM_ASSERT(bytes <= static_cast<size_t>(INT_MAX));
  MPI_Request req;
  check_mpi(MPI_Isend(src, static_cast<int>(bytes), MPI_BYTE, dst_rank, tag, coll_comm_, &req), "MPI_Isend");
  count_sent(bytes);
  return req;
}

MPI_Request MpiCommunicator::irecv(void* dst, size_t bytes, int src_rank, int tag) {
  LOOM_ASSERT(bytes <= static_cast<size_t>(INT_MAX));
  MPI_Request req;
  check_mpi(MPI_Irecv(dst, static_cast<int>(bytes), MPI_BYTE, src_rank, tag, coll_comm_, &req), "MPI_Irecv");
  return req;
}

char* MpiCommunicator::scratch(size_t bytes) {
  if (scratch_.size() < bytes)
    scratch_.resize(bytes);
  return scratch_.data();
}

char* MpiCommunicator::scratch2(size_t bytes) {
  if (scratch2_.size() < bytes)
    scratch2_.resize(bytes);
  return scratch2_.data();
}

// --- Point to point -----------------------------------------------------------------

namespace {
void check_peer(int peer, int size, const char* what) {
  LOOM_CHECK(peer >= 0 && peer < size, what, ": rank ", peer, " is out of range (the job has ", size, " ranks)");
}
void check_tag(int tag, const char* what) {
  LOOM_CHECK(tag >= 0 && tag < 2 * Communicator::kInternalTagBase, what, ": tag ", tag,
             " is out of range; tags are 0 .. 2^20-1 (and 2^20 .. 2^21-1 for loom's own layers)");
}
}  // namespace

void MpiCommunicator::send(const void* src, size_t bytes, int dst_rank, int tag) {
  check_peer(dst_rank, size_, "send");
  check_tag(tag, "send");
  OpContext ctx{.op = "send", .tag = tag};
  const char* p = static_cast<const char*>(src);
  size_t off = 0;
  do {  // at least one message, so a zero-byte send matches a zero-byte recv
    size_t n = std::min(kMaxMessage, bytes - off);
    MPI_Request req;
    check_mpi(MPI_Isend(p + off, static_cast<int>(n), MPI_BYTE, dst_rank, tag, user_comm_, &req), "MPI_Isend");
    count_sent(n);
    wait(&req, dst_rank, ctx);
    off += n;
  } while (off < bytes);
}

void MpiCommunicator::recv(void* dst, size_t bytes, int src_rank, int tag) {
  check_peer(src_rank, size_, "recv");
  check_tag(tag, "recv");
  OpContext ctx{.op = "recv", .tag = tag};
  char* p = static_cast<char*>(dst);
  size_t off = 0;
  do {
    size_t n = std::min(kMaxMessage, bytes - off);
    MPI_Request req;
    check_mpi(MPI_Irecv(p + off, static_cast<int>(n), MPI_BYTE, src_rank, tag, user_comm_, &req), "MPI_Irecv");
    wait(&req, src_rank, ctx);
    off += n;
  } while (off < bytes);
}

void MpiCommunicator::sendrecv(const void* src, size_t send_bytes, int dst_rank, void* dst, size_t recv_bytes,
                               int src_rank, int tag) {
  check_peer(dst_rank, size_, "sendrecv");
  check_peer(src_rank, size_, "sendrecv");
  check_tag(tag, "sendrecv");
  OpContext ctx{.op = "sendrecv", .tag = tag};
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  size_t soff = 0, roff = 0;
  bool first = true;
  while (first || soff < send_bytes || roff < recv_bytes) {
    MPI_Request reqs[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    if (first || roff < recv_bytes) {
      size_t n = std::min(kMaxMessage, recv_bytes - roff);
      check_mpi(MPI_Irecv(d + roff, static_cast<int>(n), MPI_BYTE, src_rank, tag, user_comm_, &reqs[0]), "MPI_Irecv");
      roff += n;
    }
    if (first || soff < send_bytes) {
      size_t n = std::min(kMaxMessage, send_bytes - soff);
      check_mpi(MPI_Isend(s + soff, static_cast<int>(n), MPI_BYTE, dst_rank, tag, user_comm_, &reqs[1]), "MPI_Isend");
      count_sent(n);
      soff += n;
    }
    first = false;
    wait(&reqs[0], src_rank, ctx);
    wait(&reqs[1], dst_rank, ctx);
  }
}

// --- Collectives --------------------------------------------------------------------

void MpiCommunicator::broadcast(void* data, size_t bytes, int root) {
  check_peer(root, size_, "broadcast");
  std::lock_guard lock(collective_mutex_);
  OpContext ctx = begin_collective("broadcast", "MPI");
  if (size_ == 1)
    return;
  char* p = static_cast<char*>(data);
  size_t off = 0;
  while (off < bytes) {
    size_t n = std::min(kMaxMessage, bytes - off);
    MPI_Request req;
    check_mpi(MPI_Ibcast(p + off, static_cast<int>(n), MPI_BYTE, root, coll_comm_, &req), "MPI_Ibcast");
    wait_native(&req, ctx);
    off += n;
  }
  // Estimate: a pipelined broadcast has every rank but the last forward the message once.
  if (rank_ == root)
    count_sent(bytes);
  else if (rank_ != (root + size_ - 1) % size_)
    count_sent(bytes);
}

void MpiCommunicator::allreduce(void* data, int64_t count, DType dtype, ReduceOp op, AllreduceAlgorithm algorithm) {
  LOOM_CHECK(count >= 0, "allreduce: count must be >= 0, got ", count);
  const size_t elem = dtype_size(dtype);
  const size_t bytes = static_cast<size_t>(count) * elem;
  if (algorithm == AllreduceAlgorithm::automatic)
    algorithm = choose_algorithm(bytes, size_, one_node());
  ReduceFn reduce = reduce_function(dtype, op);  // validates dtype/op on every rank count
  std::lock_guard lock(collective_mutex_);
  OpContext ctx = begin_collective("allreduce", algorithm_name(algorithm));
  if (size_ == 1 || count == 0)
    return;
  if (algorithm == AllreduceAlgorithm::shared_memory) {
    LOOM_CHECK(one_node(), "allreduce: the shared-memory algorithm needs every rank on one node (", local_size_, " of ",
               size_, " ranks are on this one)");
    if (shm_allreduce(*this, data, count, elem, reduce, ctx))
      return;
    algorithm = choose_message_algorithm(bytes, size_);  // the segment could not be set up
    ctx.algorithm = algorithm_name(algorithm);
  }
  switch (algorithm) {
    case AllreduceAlgorithm::ring:
      ring_allreduce(*this, data, count, elem, reduce, ctx);
      return;
    case AllreduceAlgorithm::recursive_doubling:
      recursive_doubling_allreduce(*this, data, count, elem, reduce, reduce_function(dtype, op, true), ctx);
      return;
    case AllreduceAlgorithm::native:
    case AllreduceAlgorithm::shared_memory:  // not reached: handled above
    case AllreduceAlgorithm::automatic: {
      char* p = static_cast<char*>(data);
      const int64_t chunk = static_cast<int64_t>(kMaxMessage / elem);
      for (int64_t off = 0; off < count; off += chunk) {
        int n = static_cast<int>(std::min(chunk, count - off));
        MPI_Request req;
        check_mpi(MPI_Iallreduce(MPI_IN_PLACE, p + static_cast<size_t>(off) * elem, n, mpi_datatype(dtype), mpi_op(op),
                                 coll_comm_, &req),
                  "MPI_Iallreduce");
        wait_native(&req, ctx);
      }
      count_sent(2 * bytes * static_cast<uint64_t>(size_ - 1) / static_cast<uint64_t>(size_));
      return;
    }
  }
}

void MpiCommunicator::reduce_scatter(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype,
                                     ReduceOp op) {
  LOOM_CHECK(static_cast<int>(counts.size()) == size_, "reduce_scatter: expected one count per rank (", size_,
             "), got ", counts.size());
  const size_t elem = dtype_size(dtype);
  std::vector<int64_t> offsets(counts.size() + 1, 0);
  for (size_t b = 0; b < counts.size(); ++b) {
    LOOM_CHECK(counts[b] >= 0, "reduce_scatter: counts[", b, "] is negative (", counts[b], ")");
    offsets[b + 1] = offsets[b] + counts[b];
  }
  ReduceFn reduce = reduce_function(dtype, op);
  std::lock_guard lock(collective_mutex_);
  OpContext ctx = begin_collective("reduce_scatter", "ring");
  const size_t total = static_cast<size_t>(offsets.back()) * elem;
  const size_t mine = static_cast<size_t>(counts[static_cast<size_t>(rank_)]) * elem;
  const char* s = static_cast<const char*>(src);
  if (size_ == 1) {
    if (mine)
      std::memmove(dst, s, mine);
    return;
  }
  // The ring reduces in place, so it works on a copy of src.
  char* work = scratch2(total);
  if (total)
    std::memcpy(work, s, total);
  ring_run(*this, work, offsets, elem, reduce, /*reduce_scatter=*/true, /*allgather=*/false, ctx);
  if (mine)
    std::memcpy(dst, work + static_cast<size_t>(offsets[static_cast<size_t>(rank_)]) * elem, mine);
}

void MpiCommunicator::allgather(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype) {
  LOOM_CHECK(static_cast<int>(counts.size()) == size_, "allgather: expected one count per rank (", size_, "), got ",
             counts.size());
  const size_t elem = dtype_size(dtype);
  std::vector<int64_t> offsets(counts.size() + 1, 0);
  for (size_t b = 0; b < counts.size(); ++b) {
    LOOM_CHECK(counts[b] >= 0, "allgather: counts[", b, "] is negative (", counts[b], ")");
    offsets[b + 1] = offsets[b] + counts[b];
  }
  std::lock_guard lock(collective_mutex_);
  OpContext ctx = begin_collective("allgather", "ring");
  char* d = static_cast<char*>(dst);
  const size_t mine = static_cast<size_t>(counts[static_cast<size_t>(rank_)]) * elem;
  if (mine)
    std::memmove(d + static_cast<size_t>(offsets[static_cast<size_t>(rank_)]) * elem, src, mine);
  if (size_ == 1)
    return;
  ring_run(*this, d, offsets, elem, nullptr, /*reduce_scatter=*/false, /*allgather=*/true, ctx);
}

void MpiCommunicator::barrier() {
  std::lock_guard lock(collective_mutex_);
  OpContext ctx = begin_collective("barrier", nullptr);
  if (size_ == 1)
    return;
  MPI_Request req;
  check_mpi(MPI_Ibarrier(coll_comm_, &req), "MPI_Ibarrier");
  wait_native(&req, ctx);
}

void MpiCommunicator::abort(const std::string& reason) {
  std::fprintf(stderr, "loom: rank %d of %d: stopping the job: %s\n", rank_, size_, reason.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

}  // namespace detail

// --- Entry points -------------------------------------------------------------------

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(var) != nullptr)
      return true;
  return false;
}

namespace {
bool g_we_initialised_mpi = false;

void finalize_mpi() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (g_we_initialised_mpi && !finalized)
    MPI_Finalize();
}
}  // namespace

std::shared_ptr<Communicator> mpi_world() {
  // Constructed once, thread-safely. finalize_mpi is registered before the static
  // completes, so it runs after the communicator's destructor has freed its comms.
  static std::shared_ptr<detail::MpiCommunicator> world = [] {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) {
      int provided = 0;
      detail::check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
      g_we_initialised_mpi = true;
      std::atexit(finalize_mpi);
      if (provided < MPI_THREAD_MULTIPLE)
        std::fprintf(stderr,
                     "loom: warning: this MPI library gives thread level %d, not MPI_THREAD_MULTIPLE; "
                     "call the communicator from one thread at a time\n",
                     provided);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return std::make_shared<detail::MpiCommunicator>();
  }();
  return world;
}

}  // namespace loom::distributed
