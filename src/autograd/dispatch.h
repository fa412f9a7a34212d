#pragma once
// The one dispatch path and the registration of an op's schema (NOTE [Op schema]
// in loom/autograd/op_schema.h). An op file defines
//
//   struct MyAttrs { int64_t axis = 0; template <typename V> void fields(V&& v) { v("axis", axis); } };
//   TensorMeta my_infer(OpId id, const std::vector<TensorMeta>& in, const MyAttrs& a);
//   OpOutput my_forward(OpId id, const std::vector<Tensor>& in, const MyAttrs& a);
//   constexpr OpDef<MyAttrs> kMyOp{OpId::my_op, 1, 1, "unary", my_infer, my_forward};
//   Tensor my_op(const Tensor& x, int64_t axis) { return dispatch(kMyOp, {x}, MyAttrs{axis}); }
//   LOOM_REGISTER_OP(my_op, kMyOp)   // at global scope
//
// and nothing else: the profiler span, the device check, the autograd node and
// the tracer come from dispatch().
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/autograd/node.h"
#include "loom/autograd/op_schema.h"
#include "loom/kernels/op_codes.h"

namespace loom::autograd {

// What an op's forward returns: its output and its backward. A composite (an op
// written in terms of other ops, whose parts record their own nodes: batch_norm,
// layer_norm, mse_loss, dropout) returns no backward.
struct OpOutput {
  Tensor value;
  BackwardFn backward;
};

struct NoAttrs {
  template <typename V>
  void fields(V&&) {}
};

template <typename A>
struct OpDef {
  OpId id;
  int min_inputs, max_inputs;
  const char* kernels;
  // Both take the op's id, so ops that share a rule (the unary ones) share one function.
  TensorMeta (*infer)(OpId, const std::vector<TensorMeta>&, const A&);
  OpOutput (*forward)(OpId, const std::vector<Tensor>&, const A&);
};

const char* activation_name(kernels::Activation act);
kernels::Activation activation_from_name(const std::string& name, const char* op);

namespace detail {

struct AttrWriter {
  AttrMap& map;
  void operator()(const char* n, int64_t v) { map.set(n, v); }
  void operator()(const char* n, double v) { map.set(n, v); }
  void operator()(const char* n, bool v) { map.set(n, v); }
  void operator()(const char* n, const std::vector<int64_t>& v) { map.set(n, v); }
  void operator()(const char* n, kernels::Activation v) { map.set(n, std::string(activation_name(v))); }
};

struct AttrReader {
  const AttrMap& map;
  const char* op;
  size_t found = 0;
  template <typename T>
  void operator()(const char* n, T& v) {
    if (!map.has(n))
      return;  // a missing attribute keeps its default
    ++found;
    if constexpr (std::is_same_v<T, int64_t>)
      v = map.get_int(n, op);
    else if constexpr (std::is_same_v<T, double>)
      v = map.get_double(n, op);
    else if constexpr (std::is_same_v<T, bool>)
      v = map.get_bool(n, op);
    else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
      v = map.get_ints(n, op);
    else
      v = activation_from_name(map.get_string(n, op), op);
  }
};

// Throws when `map` names an attribute the op does not have (a typo in a graph file).
void check_known_attrs(const AttrMap& map, const AttrMap& known, const char* op);

// One op call, outermost or nested: keeps the nesting depth (the tracer sees only
// outermost calls) and the op's profiler span, from entry to exit.
class OpCall {
 public:
  explicit OpCall(OpId id);
  ~OpCall();
  OpCall(const OpCall&) = delete;
  OpCall& operator=(const OpCall&) = delete;
  bool traced() const { return traced_; }

 private:
  OpId id_;
  int64_t start_ns_ = -1;
  bool traced_ = false;
};

// The arity and the one-device rule, with errors naming the op and both devices.
// True when the inputs are on the meta device (NOTE [Meta device]).
bool check_inputs(OpId id, int min_inputs, int max_inputs, const std::vector<Tensor>& inputs);
std::vector<TensorMeta> metas(const std::vector<Tensor>& inputs);
Tensor meta_tensor(const TensorMeta& meta);
void check_input_count(OpId id, int min_inputs, int max_inputs, size_t count);
void trace_call(OpId id, const std::vector<Tensor>& inputs, const Tensor& output, AttrMap attrs);

template <typename A>
class TypedAttrs final : public AttrsBox {
 public:
  explicit TypedAttrs(const A& a) : attrs_(a) {}
  AttrMap to_map() const override;

 private:
  A attrs_;
};

}  // namespace detail

template <typename A>
AttrMap to_attr_map(const A& attrs) {
  AttrMap map;
  A copy = attrs;
  copy.fields(detail::AttrWriter{map});
  return map;
}

template <typename A>
A attrs_from_map(const AttrMap& map, const char* op) {
  A attrs{};
  detail::AttrReader reader{map, op};
  attrs.fields(reader);
  if (reader.found != map.items().size())
    detail::check_known_attrs(map, to_attr_map(A{}), op);
  return attrs;
}

template <typename A>
AttrMap detail::TypedAttrs<A>::to_map() const {
  return to_attr_map(attrs_);
}

template <typename A>
Tensor dispatch(const OpDef<A>& def, const std::vector<Tensor>& inputs, const A& attrs) {
  detail::OpCall call(def.id);
  if (detail::check_inputs(def.id, def.min_inputs, def.max_inputs, inputs)) {  // NOTE [Meta device]
    Tensor out = detail::meta_tensor(def.infer(def.id, detail::metas(inputs), attrs));
    if (call.traced())
      detail::trace_call(def.id, inputs, out, to_attr_map(attrs));
    return out;
  }
  OpOutput r = def.forward(def.id, inputs, attrs);
  Tensor out = std::move(r.value);
  if (r.backward && needs_grad(inputs)) {
    std::shared_ptr<const AttrsBox> box;
    if constexpr (!std::is_empty_v<A>)
      box = std::make_shared<detail::TypedAttrs<A>>(attrs);
    out = record(def.id, std::move(out), inputs, std::move(r.backward), std::move(box));
  }
  if (call.traced())
    detail::trace_call(def.id, inputs, out, to_attr_map(attrs));
  return out;
}

namespace detail {

template <typename A>
struct attrs_of_def;
template <typename A>
struct attrs_of_def<const OpDef<A>> {
  using type = A;
};

template <auto& Def>
TensorMeta erased_infer(const std::vector<TensorMeta>& inputs, const AttrMap& map) {
  using A = typename attrs_of_def<std::remove_reference_t<decltype(Def)>>::type;
  check_input_count(Def.id, Def.min_inputs, Def.max_inputs, inputs.size());
  std::vector<TensorMeta> padded = inputs;  // optional inputs left out are undefined
  if (Def.max_inputs > 0)
    padded.resize(Def.max_inputs, TensorMeta::none());
  return Def.infer(Def.id, padded, attrs_from_map<A>(map, op_name(Def.id)));
}

template <auto& Def>
Tensor erased_run(const std::vector<Tensor>& inputs, const AttrMap& map) {
  using A = typename attrs_of_def<std::remove_reference_t<decltype(Def)>>::type;
  check_input_count(Def.id, Def.min_inputs, Def.max_inputs, inputs.size());
  std::vector<Tensor> padded = inputs;
  if (Def.max_inputs > 0)
    padded.resize(Def.max_inputs);
  return dispatch(Def, padded, attrs_from_map<A>(map, op_name(Def.id)));
}

template <auto& Def>
AttrMap erased_defaults() {
  using A = typename attrs_of_def<std::remove_reference_t<decltype(Def)>>::type;
  return to_attr_map(A{});
}

template <auto& Def>
OpSchema make_schema() {
  return {Def.id,      op_name(Def.id),    Def.min_inputs,   Def.max_inputs,
          Def.kernels, &erased_infer<Def>, &erased_run<Def>, &erased_defaults<Def>};
}

}  // namespace detail
}  // namespace loom::autograd

// NOTE [Late-registered ops]
// The collectives (LOOM_COLLECTIVE_OPS in op_table.h) need a process group, so
// they live in the distributed layer, above autograd. Their OpIds are in the one
// table, and they run through the same dispatch path, but their schemas cannot be
// named by dispatch.cpp's link-time table: each registers its getter from its own
// file at start-up (LOOM_REGISTER_LATE_OP), when the program links that file. A
// program that never calls a collective gets a clear error from op_schema() for
// one (a graph file naming all_reduce, say), not a link error.
namespace loom::autograd::detail {
bool register_late_schema(OpId id, const OpSchema& (*getter)());
}  // namespace loom::autograd::detail

// Registers op `name` (its OpId::name) with the definition `def` (an OpDef at
// namespace scope in the op's file). Use at global scope.
#define LOOM_REGISTER_OP(name, def)                                              \
  namespace loom::autograd::schemas {                                            \
  const OpSchema& name##_schema() {                                              \
    static const OpSchema schema = ::loom::autograd::detail::make_schema<def>(); \
    return schema;                                                               \
  }                                                                              \
  }

// The same, for an op of a layer above autograd (NOTE [Late-registered ops]): the
// getter is also handed to the registry at start-up.
#define LOOM_REGISTER_LATE_OP(name, def)                                                            \
  LOOM_REGISTER_OP(name, def)                                                                       \
  namespace loom::autograd::schemas {                                                               \
  [[maybe_unused]] const bool name##_registered =                                                   \
      ::loom::autograd::detail::register_late_schema(::loom::autograd::OpId::name, &name##_schema); \
  }
