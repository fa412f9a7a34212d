// Collectives as autograd ops (loom/distributed/collective_ops.h).
#include "loom/distributed/collective_ops.h"

#include <mutex>
#include <vector>

#include "autograd/ops/op_util.h"
#include "loom/autograd/grad_mode.h"

namespace loom::distributed {
namespace {

using namespace ops_detail;  // OpDef, OpId, OpOutput, TensorMeta, Inputs, Metas (autograd/ops/op_util.h)

// Ops name their group by a handle, so their attributes stay plain values a traced
// graph can record; a handle is valid in the process that made it.
class GroupTable {
 public:
  int64_t handle(const std::shared_ptr<Communicator>& group) {
    LOOM_CHECK(group != nullptr, "collective op: the process group is null (a rank outside every group?)");
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < groups_.size(); ++i) {
      if (groups_[i].lock() == group)
        return static_cast<int64_t>(i);
    }
    groups_.push_back(group);
    return static_cast<int64_t>(groups_.size() - 1);
  }
  std::shared_ptr<Communicator> get(int64_t handle, OpId op) {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Communicator> g =
        handle >= 0 && handle < static_cast<int64_t>(groups_.size()) ? groups_[handle].lock() : nullptr;
    LOOM_CHECK(g != nullptr, autograd::op_name(op), ": process group ", handle, " does not exist in this process");
    return g;
  }

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Communicator>> groups_;
};

GroupTable& groups() {
  static GroupTable table;
  return table;
}

struct GroupAttrs {
  int64_t group = -1;
  bool average = false;  // all_reduce only
  template <typename V>
  void fields(V&& v) {
    v("group", group);
    v("average", average);
  }
};

struct PeerAttrs {
  int64_t group = -1, peer = 0, tag = 0;
  Shape shape;        // recv only
  int64_t dtype = 0;  // recv only (a DType's value)
  template <typename V>
  void fields(V&& v) {
    v("group", group);
    v("peer", peer);
    v("tag", tag);
    v("shape", shape);
    v("dtype", dtype);
  }
};

void check_float(OpId op, DType dtype) {
  LOOM_CHECK(dtype == DType::f32 || dtype == DType::f64, autograd::op_name(op), ": f32 or f64 tensors only, got ",
             dtype_name(dtype));
}

TensorMeta same_meta(OpId op, const Metas& in, const GroupAttrs& a) {
  check_float(op, in[0].dtype);
  groups().get(a.group, op);
  return in[0];
}

TensorMeta gather_meta(OpId op, const Metas& in, const GroupAttrs& a) {
  check_float(op, in[0].dtype);
  LOOM_CHECK(!in[0].shape.empty(), "all_gather: a scalar has no dim 0 to gather along");
  TensorMeta m = in[0];
  m.shape[0] *= groups().get(a.group, op)->size();
  return m;
}

TensorMeta scatter_meta(OpId op, const Metas& in, const GroupAttrs& a) {
  check_float(op, in[0].dtype);
  const int size = groups().get(a.group, op)->size();
  LOOM_CHECK(!in[0].shape.empty() && in[0].shape[0] % size == 0, "reduce_scatter: dim 0 of ", autograd::meta_str(in[0]),
             " does not divide into ", size, " ranks");
  TensorMeta m = in[0];
  m.shape[0] /= size;
  return m;
}

TensorMeta send_meta(OpId op, const Metas& in, const PeerAttrs& a) {
  check_float(op, in[0].dtype);
  groups().get(a.group, op);
  return {{}, in[0].dtype, true};
}

TensorMeta recv_meta(OpId op, const Metas&, const PeerAttrs& a) {
  const DType dtype = static_cast<DType>(a.dtype);
  check_float(op, dtype);
  groups().get(a.group, op);
  return {a.shape, dtype, true};
}

// In place on a fresh contiguous f32/f64 tensor (no autograd: this is inside an op).
void scale(Tensor& t, double factor) {
  if (t.dtype() == DType::f64) {
    for (double *p = t.data<double>(), *end = p + t.numel(); p != end; ++p)
      *p *= factor;
  } else {
    const float f = static_cast<float>(factor);
    for (float *p = t.data<float>(), *end = p + t.numel(); p != end; ++p)
      *p *= f;
  }
}

OpOutput all_reduce_forward(OpId op, const Inputs& in, const GroupAttrs& a) {
  same_meta(op, {TensorMeta::of(in[0])}, a);  // the shape rule checks the call
  auto group = groups().get(a.group, op);
  Tensor out = in[0].clone();
  group->allreduce(out.raw_data(), out.numel(), out.dtype(), ReduceOp::sum);
  if (a.average && group->size() > 1)
    scale(out, 1.0 / group->size());
  return {out, [group, average = a.average](const Tensor& g) -> Inputs { return {all_reduce(g, group, average)}; }};
}

OpOutput all_gather_forward(OpId op, const Inputs& in, const GroupAttrs& a) {
  gather_meta(op, {TensorMeta::of(in[0])}, a);  // the shape rule checks the call
  auto group = groups().get(a.group, op);
  const Tensor x = in[0].contiguous();
  // Every rank must give the same shape: compare them first, so a mismatch is an
  // error naming both and not a corrupt result.
  std::vector<int64_t> dims(x.shape().begin(), x.shape().end()), lo = dims, hi = dims;
  group->allreduce(lo.data(), static_cast<int64_t>(lo.size()), DType::i64, ReduceOp::min);
  group->allreduce(hi.data(), static_cast<int64_t>(hi.size()), DType::i64, ReduceOp::max);
  LOOM_CHECK(lo == hi, "all_gather: rank ", group->rank(), " gives ", shape_str(x.shape()),
             " but the group's shapes differ (each rank must give the same shape)");
  Shape shape = x.shape();
  shape[0] *= group->size();
  Tensor out = Tensor::empty(shape, x.dtype());
  group->allgather(x.raw_data(), out.raw_data(), std::vector<int64_t>(group->size(), x.numel()), x.dtype());
  return {out, [group](const Tensor& g) -> Inputs { return {reduce_scatter(g, group)}; }};
}

OpOutput reduce_scatter_forward(OpId op, const Inputs& in, const GroupAttrs& a) {
  scatter_meta(op, {TensorMeta::of(in[0])}, a);  // the shape rule checks the call
  auto group = groups().get(a.group, op);
  const Tensor x = in[0].contiguous();
  Shape shape = x.shape();
  shape[0] /= group->size();
  Tensor out = Tensor::empty(shape, x.dtype());
  group->reduce_scatter(x.raw_data(), out.raw_data(), std::vector<int64_t>(group->size(), out.numel()), x.dtype(),
                        ReduceOp::sum);
  return {out, [group](const Tensor& g) -> Inputs { return {all_gather(g, group)}; }};
}

OpOutput send_forward(OpId op, const Inputs& in, const PeerAttrs& a) {
  send_meta(op, {TensorMeta::of(in[0])}, a);  // the shape rule checks the call
  auto group = groups().get(a.group, op);
  const Tensor x = in[0].contiguous();
  group->send(x.raw_data(), x.nbytes(), static_cast<int>(a.peer), static_cast<int>(a.tag));
  return {Tensor::zeros({}, x.dtype()), [group, a, shape = x.shape(), dtype = x.dtype()](const Tensor&) -> Inputs {
            Tensor grad = Tensor::empty(shape, dtype);
            group->recv(grad.raw_data(), grad.nbytes(), static_cast<int>(a.peer), static_cast<int>(a.tag));
            return {grad};
          }};
}

OpOutput recv_forward(OpId op, const Inputs&, const PeerAttrs& a) {
  recv_meta(op, {TensorMeta::of(Tensor())}, a);  // the shape rule checks the call
  auto group = groups().get(a.group, op);
  Tensor out = Tensor::empty(a.shape, static_cast<DType>(a.dtype));
  group->recv(out.raw_data(), out.nbytes(), static_cast<int>(a.peer), static_cast<int>(a.tag));
  return {out, [group, a](const Tensor& g) -> Inputs {
            const Tensor grad = g.contiguous();
            group->send(grad.raw_data(), grad.nbytes(), static_cast<int>(a.peer), static_cast<int>(a.tag));
            // A zero for the anchor, so the backward reaches a send token given as `after`.
            return {Tensor::zeros({}, grad.dtype())};
          }};
}

constexpr OpDef<GroupAttrs> kAllReduce{OpId::all_reduce, 1, 1, "communicator allreduce", same_meta, all_reduce_forward};
constexpr OpDef<GroupAttrs> kAllGather{OpId::all_gather,         1,           1,
                                       "communicator allgather", gather_meta, all_gather_forward};
constexpr OpDef<GroupAttrs> kReduceScatter{OpId::reduce_scatter,  1, 1, "communicator reduce_scatter", scatter_meta,
                                           reduce_scatter_forward};
constexpr OpDef<PeerAttrs> kSend{OpId::send, 1, 1, "communicator send/recv", send_meta, send_forward};
// Its one input is an anchor: recv makes data from nothing, but an autograd node
// needs an input that requires grad to be recorded and reached by backward.
constexpr OpDef<PeerAttrs> kRecv{OpId::recv, 1, 1, "communicator send/recv", recv_meta, recv_forward};

Tensor anchor(const Tensor& after, DType dtype) {
  if (after.defined())
    return after;
  return Tensor::zeros({}, dtype).set_requires_grad(autograd::grad_enabled());
}

}  // namespace

Tensor all_reduce(const Tensor& x, const std::shared_ptr<Communicator>& group, bool average) {
  return autograd::dispatch(kAllReduce, {x}, GroupAttrs{groups().handle(group), average});
}

Tensor all_gather(const Tensor& x, const std::shared_ptr<Communicator>& group) {
  return autograd::dispatch(kAllGather, {x}, GroupAttrs{groups().handle(group), false});
}

Tensor reduce_scatter(const Tensor& x, const std::shared_ptr<Communicator>& group) {
  return autograd::dispatch(kReduceScatter, {x}, GroupAttrs{groups().handle(group), false});
}

Tensor send(const Tensor& x, const std::shared_ptr<Communicator>& group, int peer, int tag) {
  return autograd::dispatch(kSend, {x}, PeerAttrs{groups().handle(group), peer, tag, {}, 0});
}

Tensor recv(const Shape& shape, DType dtype, const std::shared_ptr<Communicator>& group, int peer, int tag,
            const Tensor& after) {
  return autograd::dispatch(kRecv, {anchor(after, dtype)},
                            PeerAttrs{groups().handle(group), peer, tag, shape, static_cast<int64_t>(dtype)});
}

}  // namespace loom::distributed

LOOM_REGISTER_LATE_OP(all_reduce, loom::distributed::kAllReduce)
LOOM_REGISTER_LATE_OP(all_gather, loom::distributed::kAllGather)
LOOM_REGISTER_LATE_OP(reduce_scatter, loom::distributed::kReduceScatter)
LOOM_REGISTER_LATE_OP(send, loom::distributed::kSend)
LOOM_REGISTER_LATE_OP(recv, loom::distributed::kRecv)
