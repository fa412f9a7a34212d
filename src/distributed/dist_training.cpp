// The --dist strategies behind TrainingStrategy (loom/distributed/training.h).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "loom/core/error.h"
#include "loom/distributed/averaging.h"
#include "loom/distributed/ddp.h"
#include "loom/distributed/parameter_server.h"
#include "loom/distributed/training.h"

namespace loom::distributed {

DistMode parse_dist_mode(const std::string& name) {
  if (name == "none")
    return DistMode::none;
  if (name == "ddp")
    return DistMode::ddp;
  if (name == "ps")
    return DistMode::ps;
  if (name == "localsgd")
    return DistMode::localsgd;
  if (name == "easgd")
    return DistMode::easgd;
  LOOM_THROW(ValueError, "--dist must be none, ddp, ps, localsgd or easgd, got '", name, "'");
}

const char* dist_mode_name(DistMode mode) {
  switch (mode) {
    case DistMode::none:
      return "none";
    case DistMode::ddp:
      return "ddp";
    case DistMode::ps:
      return "ps";
    case DistMode::localsgd:
      return "localsgd";
    case DistMode::easgd:
      return "easgd";
  }
  return "?";
}

PsMode parse_ps_mode(const std::string& name) {
  if (name == "sync")
    return PsMode::sync;
  if (name == "async")
    return PsMode::async;
  if (name == "ssp")
    return PsMode::ssp;
  LOOM_THROW(ValueError, "--ps-mode must be sync, async or ssp, got '", name, "'");
}

const char* ps_mode_name(PsMode mode) {
  switch (mode) {
    case PsMode::sync:
      return "sync";
    case PsMode::async:
      return "async";
    case PsMode::ssp:
      return "ssp";
  }
  return "?";
}

int TrainingStrategy::data_rank() const { return comm_ ? comm_->rank() : 0; }
int TrainingStrategy::data_world() const { return comm_ ? comm_->size() : 1; }

StepOutput TrainingStrategy::run_step(const StepInput& in) {
  StepOutput out;
  out.output = in.model(in.input);
  out.loss = in.loss(out.output, in.target);
  in.optimizer.zero_grad();
  before_backward(out.loss);
  out.loss.backward();
  step(in.optimizer, in.global_step);
  return out;
}

namespace {

class DdpStrategy final : public TrainingStrategy {
 public:
  DdpStrategy(const DistOptions& o, std::shared_ptr<Communicator> comm, nn::Module& model)
      : TrainingStrategy(comm),
        bucket_mb_(o.bucket_mb),
        buckets_(model, comm, DdpOptions{o.bucket_mb, o.algorithm, o.compress, o.topk_ratio, true}) {}
  DistMode mode() const override { return DistMode::ddp; }
  void start() override { buckets_.broadcast_parameters(); }
  void before_backward(const Tensor& loss) override { buckets_.prepare(loss); }
  void step(optim::Optimizer& optimizer, int64_t) override {
    buckets_.finish();
    optimizer.step();
  }
  bool checkpointable() const override { return true; }
  CompressionReport traffic() const override { return buckets_.traffic(); }
  std::string describe() const override {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%lld gradient buckets of <= %g MB", static_cast<long long>(buckets_.num_buckets()),
                  bucket_mb_);
    return buf;
  }

 private:
  double bucket_mb_;
  GradientBuckets buckets_;
};

class AveragingStrategy final : public TrainingStrategy {
 public:
  AveragingStrategy(const DistOptions& o, std::shared_ptr<Communicator> comm, nn::Module& model)
      : TrainingStrategy(comm),
        mode_(o.mode),
        sync_every_(o.sync_every),
        averager_(model, comm, o.mode, o.sync_every, o.easgd_alpha, o.algorithm, o.compress, o.topk_ratio) {}
  DistMode mode() const override { return mode_; }
  void start() override { averager_.start(); }
  void step(optim::Optimizer& optimizer, int64_t global_step) override {
    optimizer.step();
    averager_.after_step(global_step, optimizer);
    optimizer_ = &optimizer;
  }
  void finish() override { averager_.finish(optimizer_); }
  CompressionReport traffic() const override { return averager_.traffic(); }
  std::string describe() const override {
    char buf[96];
    if (mode_ == DistMode::easgd)
      std::snprintf(buf, sizeof buf, "sync every %lld steps, alpha %g", static_cast<long long>(sync_every_),
                    averager_.alpha());
    else
      std::snprintf(buf, sizeof buf, "sync every %lld steps", static_cast<long long>(sync_every_));
    return buf;
  }

 private:
  DistMode mode_;
  int64_t sync_every_;
  ModelAverager averager_;
  optim::Optimizer* optimizer_ = nullptr;  // the one step() was given
};

class PsStrategy final : public TrainingStrategy {
 public:
  PsStrategy(const DistOptions& o, std::shared_ptr<Communicator> comm, nn::Module& model)
      : TrainingStrategy(comm),
        servers_(o.servers),
        ps_mode_(o.ps_mode),
        staleness_(o.staleness),
        ps_(model, comm, o) {}
  DistMode mode() const override { return DistMode::ps; }
  void start() override { ps_.start(); }
  bool trains() const override { return !ps_.is_server(); }
  void serve(int64_t total_steps) override { ps_.serve(total_steps); }
  void step(optim::Optimizer& optimizer, int64_t) override { ps_.push_pull(optimizer.lr()); }
  void finish() override { ps_.finish(); }
  CompressionReport traffic() const override { return ps_.traffic(); }
  int data_rank() const override { return ps_.is_server() ? 0 : comm_->rank() - servers_; }
  int data_world() const override { return ps_.workers(); }
  std::string describe() const override {
    std::string s = std::to_string(servers_) + " server(s), " + std::to_string(ps_.workers()) + " worker(s), " +
                    ps_mode_name(ps_mode_);
    if (ps_mode_ == PsMode::ssp)
      s += " staleness " + std::to_string(staleness_);
    return s;
  }

 private:
  int servers_;
  PsMode ps_mode_;
  int64_t staleness_;
  ParameterServer ps_;
};

}  // namespace

std::unique_ptr<TrainingStrategy> make_strategy(const DistOptions& options, std::shared_ptr<Communicator> comm,
                                                nn::Module& model, optim::Optimizer& optimizer) {
  LOOM_CHECK(comm, "make_strategy: no communicator");
  switch (options.mode) {
    case DistMode::ddp:
      return std::make_unique<DdpStrategy>(options, comm, model);
    case DistMode::localsgd:
    case DistMode::easgd:
      return std::make_unique<AveragingStrategy>(options, comm, model);
    case DistMode::ps:
      return std::make_unique<PsStrategy>(options, comm, model);
    case DistMode::none:
      break;
  }
  LOOM_THROW(ValueError, "make_strategy: --dist none has no strategy");
}

F32Mirror::F32Mirror(nn::Module& model, const char* strategy) : model_(model) {
  const auto& groups = model.arena_groups();
  LOOM_CHECK(!groups.empty(), strategy, ": the model's parameters must be packed (Module::pack_parameters)");
  for (const auto& g : groups) {
    LOOM_CHECK(g.dtype == DType::f32 || g.dtype == DType::f64 || g.dtype == DType::bf16 || g.dtype == DType::f16,
               strategy, ": parameters of dtype ", dtype_name(g.dtype),
               " cannot be trained (f32, f64, bf16 and f16 can); DDP (--dist ddp) averages every dtype");
    size_ += g.parameters.numel();
  }
  direct_ = groups.size() == 1 && groups[0].dtype == DType::f32;
}

Tensor F32Mirror::gather(bool gradients, Tensor& buffer) {
  const auto& groups = model_.arena_groups();
  if (direct_)
    return gradients ? groups[0].gradients : groups[0].parameters;
  if (!buffer.defined())
    buffer = Tensor::empty({size_}, DType::f32);
  int64_t at = 0;
  for (const auto& g : groups) {
    const Tensor& src = gradients ? g.gradients : g.parameters;
    buffer.as_strided({src.numel()}, {1}, at).copy_(src);
    at += src.numel();
  }
  return buffer;
}

Tensor F32Mirror::params() { return gather(false, params_); }
Tensor F32Mirror::grads() { return gather(true, grads_); }

void F32Mirror::store_params() {
  const auto& groups = model_.arena_groups();
  if (!direct_) {
    LOOM_ASSERT(params_.defined());
    int64_t at = 0;
    for (const auto& g : groups) {
      g.parameters.copy_(params_.as_strided({g.parameters.numel()}, {1}, at));
      at += g.parameters.numel();
    }
  }
  for (const auto& g : groups)
    g.parameters.bump_version();
}

void broadcast_model(Communicator& comm, nn::Module& model, int root) {
  LOOM_CHECK(!model.arena_groups().empty(), "broadcast_model: the model's parameters must be packed");
  for (const nn::Module::ArenaGroup& group : model.arena_groups())  // one per dtype
    comm.broadcast(group.parameters.raw_data(), group.parameters.nbytes(), root);
  for (auto& [name, buffer] : model.named_buffers())
    if (buffer.is_contiguous() && buffer.numel() > 0)
      comm.broadcast(buffer.raw_data(), buffer.nbytes(), root);
  for (const nn::Module::ArenaGroup& group : model.arena_groups())
    group.parameters.bump_version();
}

void maybe_inject_fault(int rank, int64_t global_step) {
  static const char* spec = std::getenv("LOOM_FAULT_INJECT");
  if (!spec || !*spec)
    return;
  int r = -1;
  long long step = -1;
  char kind[16] = {0};
  if (std::sscanf(spec, "%d:%lld:%15s", &r, &step, kind) != 3 || r != rank || step != global_step)
    return;
  if (std::string(kind) == "exit") {
    std::fprintf(stderr, "loom: fault injection: rank %d exits at step %lld\n", rank, step);
    std::fflush(stderr);
    std::_Exit(3);
  }
  std::fprintf(stderr, "loom: fault injection: rank %d stops answering at step %lld\n", rank, step);
  std::fflush(stderr);
  for (;;)
    std::this_thread::sleep_for(std::chrono::seconds(1));
}

}  // namespace loom::distributed
