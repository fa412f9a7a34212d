// self_communicator(): a group of one process (loom/distributed/communicator.h).
#include <cstring>
#include <deque>
#include <map>
#include <mutex>

#include "loom/core/error.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {
namespace {

class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }

  void send(const void* src, size_t bytes, int dst_rank, int tag) override {
    check_peer(dst_rank, "send");
    const auto* p = static_cast<const char*>(src);
    std::lock_guard<std::mutex> lock(mu_);
    mailbox_[tag].emplace_back(p, p + bytes);
  }
  void recv(void* dst, size_t bytes, int src_rank, int tag) override {
    check_peer(src_rank, "recv");
    std::lock_guard<std::mutex> lock(mu_);
    auto it = mailbox_.find(tag);
    LOOM_CHECK(it != mailbox_.end() && !it->second.empty(), "self communicator: recv with tag ", tag,
               " has no message sent to it (one rank cannot wait for itself)");
    std::vector<char>& m = it->second.front();
    LOOM_CHECK(m.size() == bytes, "self communicator: recv of ", bytes, " bytes with tag ", tag, " got a message of ",
               m.size(), " bytes");
    std::memcpy(dst, m.data(), bytes);
    it->second.pop_front();
  }
  void sendrecv(const void* src, size_t send_bytes, int dst_rank, void* dst, size_t recv_bytes, int src_rank,
                int tag) override {
    send(src, send_bytes, dst_rank, tag);
    recv(dst, recv_bytes, src_rank, tag);
  }
  void broadcast(void*, size_t, int root) override { check_peer(root, "broadcast"); }
  void allreduce(void*, int64_t, DType, ReduceOp, AllreduceAlgorithm) override {}
  void reduce_scatter(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype, ReduceOp) override {
    LOOM_CHECK(counts.size() == 1, "self communicator: reduce_scatter needs one count, got ", counts.size());
    std::memmove(dst, src, static_cast<size_t>(counts[0]) * dtype_size(dtype));
  }
  void allgather(const void* src, void* dst, const std::vector<int64_t>& counts, DType dtype) override {
    LOOM_CHECK(counts.size() == 1, "self communicator: allgather needs one count, got ", counts.size());
    std::memmove(dst, src, static_cast<size_t>(counts[0]) * dtype_size(dtype));
  }
  void barrier() override {}
  std::shared_ptr<Communicator> split(int color, int) override {
    return color < 0 ? nullptr : std::make_shared<SelfCommunicator>();
  }
  [[noreturn]] void abort(const std::string& reason) override { throw DistributedError(reason); }

 private:
  static void check_peer(int peer, const char* what) {
    LOOM_CHECK(peer == 0, "self communicator: ", what, " names rank ", peer, " but the group has only rank 0");
  }
  std::mutex mu_;
  std::map<int, std::deque<std::vector<char>>> mailbox_;
};

}  // namespace

std::shared_ptr<Communicator> self_communicator() { return std::make_shared<SelfCommunicator>(); }

}  // namespace loom::distributed
