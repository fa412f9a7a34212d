// NOTE [DDP buckets] in loom/distributed/ddp.h.
#include "loom/distributed/ddp.h"

#include <algorithm>
#include <unordered_set>

#include "loom/autograd/node.h"
#include "loom/core/error.h"

namespace loom::distributed {

GradientBuckets::GradientBuckets(nn::Module& model, std::shared_ptr<Communicator> comm, DdpOptions options)
    : model_(model),
      comm_(std::move(comm)),
      options_(options),
      reducer_(comm_, options.algorithm, options.compress, options.topk_ratio) {
  LOOM_CHECK(!model.arena_groups().empty(), "DDP: the model's parameters must be packed (Module::pack_parameters)");
  params_ = model.parameters();
  const size_t n = params_.size();
  // Each parameter's dtype group and element offset in that group's gradient arena.
  std::vector<int> group_of(n, -1);
  std::vector<int64_t> offset(n);
  const auto& groups = model.arena_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    const char* base = static_cast<const char*>(groups[g].gradients.raw_data());
    int64_t expect = 0;
    for (size_t i : groups[g].indices) {
      Tensor grad = params_[i].grad();
      LOOM_ASSERT(grad.defined());
      group_of[i] = static_cast<int>(g);
      offset[i] = (static_cast<const char*>(grad.raw_data()) - base) / static_cast<int64_t>(dtype_size(grad.dtype()));
      LOOM_ASSERT(offset[i] == expect);  // NOTE [Parameter arena]: back to back, in order
      expect += grad.numel();
    }
  }
  for (size_t i = 0; i < n; ++i)
    index_[params_[i].impl()] = i;
  // Buckets from the last parameter to the first; a bucket holds one group's
  // parameters, adjacent in its arena.
  const double bucket_bytes = std::max(1.0, options.bucket_mb * 1024 * 1024);
  bucket_of_.assign(n, 0);
  for (size_t k = n; k-- > 0;) {
    const auto& group = groups[static_cast<size_t>(group_of[k])];
    const int64_t elem = static_cast<int64_t>(dtype_size(group.dtype));
    char* base = static_cast<char*>(group.gradients.raw_data());
    const int64_t end = offset[k] + params_[k].numel();
    if (buckets_.empty() || static_cast<double>(buckets_.back().count * elem) >= bucket_bytes ||
        buckets_.back().base != base || buckets_.back().offset != end)
      buckets_.push_back(Bucket{base, group.dtype, end, 0, 0, 0});
    Bucket& b = buckets_.back();
    b.offset = offset[k];
    b.count += params_[k].numel();
    ++b.params;
    bucket_of_[k] = static_cast<int>(buckets_.size()) - 1;
  }
  expected_.assign(n, 0);
  seen_.assign(n, 0);
  done_.assign(n, 0);
  ready_.assign(buckets_.size(), 0);
  hook_ = std::make_unique<autograd::ScopedLeafGradHook>([this](const TensorImpl* leaf) { on_leaf(leaf); });
  thread_ = std::thread([this] { comm_loop(); });
}

GradientBuckets::~GradientBuckets() {
  hook_.reset();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void GradientBuckets::broadcast_parameters() { broadcast_model(*comm_, model_); }

void GradientBuckets::prepare(const Tensor& loss) {
  std::fill(expected_.begin(), expected_.end(), 0);
  if (loss.defined() && loss.grad_fn()) {
    std::unordered_set<const autograd::Node*> visited;
    std::vector<const autograd::Node*> stack{loss.grad_fn().get()};
    visited.insert(stack.back());
    while (!stack.empty()) {
      const autograd::Node* node = stack.back();
      stack.pop_back();
      for (const autograd::Node::Edge& e : node->edges()) {
        if (e.node) {
          if (visited.insert(e.node.get()).second)
            stack.push_back(e.node.get());
        } else if (e.leaf) {
          auto it = index_.find(e.leaf.get());
          if (it != index_.end())
            ++expected_[it->second];
        }
      }
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  reset_step();
  finishing_ = false;
  armed_ = options_.overlap;
  bool wake = false;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (expected_[i] != 0)
      continue;
    (void)params_[i].grad();  // not reached by this loss: a zero_grad() mark becomes zeros
    if (armed_)
      wake |= mark_ready(i);  // its gradient stays as it is
  }
  if (wake)
    cv_.notify_all();
}

void GradientBuckets::reset_step() {
  std::fill(seen_.begin(), seen_.end(), 0);
  std::fill(done_.begin(), done_.end(), 0);
  std::fill(ready_.begin(), ready_.end(), 0);
  for (Bucket& b : buckets_)
    b.pending = b.params;
  next_ = reduced_ = 0;
  launched_ = overlapped_ = 0;
  running_ = false;
}

void GradientBuckets::on_leaf(const TensorImpl* leaf) {
  auto it = index_.find(leaf);
  if (it == index_.end())
    return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || finishing_)
    return;
  const size_t i = it->second;
  if (++seen_[i] == expected_[i] && mark_ready(i))
    cv_.notify_all();
}

bool GradientBuckets::mark_ready(size_t i) {
  if (done_[i])
    return false;
  done_[i] = 1;
  const int b = bucket_of_[i];
  if (--buckets_[b].pending != 0)
    return false;
  ready_[b] = 1;
  return b < threaded_buckets();
}

void GradientBuckets::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!armed_)  // no overlap (or prepare() not called): nothing was started this step
    reset_step();
  finishing_ = true;
  armed_ = true;
  for (size_t i = 0; i < params_.size(); ++i)
    mark_ready(i);
  const int nb = num_buckets();
  for (;;) {  // every bucket is ready now: take over the ones not started
    cv_.wait(lock, [&] { return !running_ || error_; });
    if (error_ || next_ >= nb || !run_next_bucket(lock))
      break;
  }
  cv_.wait(lock, [&] { return reduced_ == nb || error_; });
  armed_ = false;
  if (error_)
    std::rethrow_exception(error_);
}

int64_t GradientBuckets::launched_buckets() {
  std::lock_guard<std::mutex> lock(mutex_);
  return launched_;
}

bool GradientBuckets::run_next_bucket(std::unique_lock<std::mutex>& lock) {
  const int b = next_++;
  running_ = true;
  ++launched_;
  if (!finishing_)
    ++overlapped_;
  lock.unlock();
  std::exception_ptr failed;
  try {
    const Bucket& bucket = buckets_[b];
    reducer_.mean(bucket.base + bucket.offset * static_cast<int64_t>(dtype_size(bucket.dtype)), bucket.count,
                  bucket.dtype, b);
  } catch (...) {
    failed = std::current_exception();
  }
  lock.lock();
  running_ = false;
  if (failed)
    error_ = failed;
  else
    ++reduced_;
  cv_.notify_all();
  return !failed;
}

void GradientBuckets::comm_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock,
             [&] { return stop_ || (armed_ && !running_ && !error_ && next_ < threaded_buckets() && ready_[next_]); });
    if (stop_ || !run_next_bucket(lock))
      return;  // after an error the caller aborts the job
  }
}

}  // namespace loom::distributed
