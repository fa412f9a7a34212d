#pragma once
// NOTE [Op schema]
// Every differentiable op is registered once (in its own file under
// src/autograd/ops/, through LOOM_REGISTER_OP in src/autograd/dispatch.h) with:
//   - its name and id (the X-macro of op_table.h),
//   - its attributes: a typed struct whose fields(v) lists each field for a visitor,
//     so they convert to and from an AttrMap without hand-written code,
//   - its shape/dtype rule (input metas + attributes -> output meta), which the
//     forward itself uses and model-file validation calls (src/io/layer_rules.cpp),
//   - the kernel families it calls (for `loom info` and the docs),
//   - its forward, which returns the output and the backward closure.
// One dispatch path runs every op: it opens the op's profiler span, checks that
// the inputs share one device, runs the forward, records the autograd node (with
// the attributes), and hands the call to a tracer when one is active on the thread
// (loom/autograd/tracer.h). Nothing of that is repeated in the ops.
//
// This header is the type-erased view of the registry: what a tool that knows an
// op only by name (a graph file, a model-file rule, an exporter) needs.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "loom/autograd/op_table.h"
#include "loom/core/tensor.h"

namespace loom::autograd {

// What the shape rule sees of a tensor: no storage.
struct TensorMeta {
  Shape shape;
  DType dtype = DType::f32;
  bool defined = true;  // false for an optional input left out (a bias-free linear)

  static TensorMeta of(const Tensor& t);
  static TensorMeta none() { return {{}, DType::f32, false}; }
  bool operator==(const TensorMeta&) const = default;
};
std::string meta_str(const TensorMeta& m);  // "f32 [2, 3]" or "none"

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>>;

// An op's attributes by name, in the order its struct lists them.
class AttrMap {
 public:
  void set(const std::string& name, AttrValue value);
  bool has(const std::string& name) const;
  // The value of `name`; a missing name or another type is an error naming `op`.
  int64_t get_int(const std::string& name, const char* op) const;
  double get_double(const std::string& name, const char* op) const;  // an int is accepted
  bool get_bool(const std::string& name, const char* op) const;
  const std::string& get_string(const std::string& name, const char* op) const;
  const std::vector<int64_t>& get_ints(const std::string& name, const char* op) const;
  const std::vector<std::pair<std::string, AttrValue>>& items() const { return items_; }
  std::string str() const;  // "stride_h=1, pad_h=0"
  bool operator==(const AttrMap&) const = default;

 private:
  const AttrValue& get(const std::string& name, const char* op) const;
  std::vector<std::pair<std::string, AttrValue>> items_;
};

struct OpSchema {
  OpId id;
  const char* name;
  int min_inputs, max_inputs;  // max -1: any number (concat)
  const char* kernels;         // the kernel families its forward and backward call
  // The output's shape and dtype; throws a ValueError naming the op on bad input.
  TensorMeta (*infer)(const std::vector<TensorMeta>& inputs, const AttrMap& attrs);
  // Runs the op through the dispatch path (autograd, profiler, tracer).
  Tensor (*run)(const std::vector<Tensor>& inputs, const AttrMap& attrs);
  // The attributes a default-constructed struct has (names and types of every field).
  AttrMap (*default_attrs)();
};

const OpSchema& op_schema(OpId id);
// The op of that name, if any ("conv2d").
std::optional<OpId> op_from_name(const std::string& name);

// Shorthands over op_schema(id).
TensorMeta infer_meta(OpId id, const std::vector<TensorMeta>& inputs, const AttrMap& attrs = {});
Tensor run_op(OpId id, const std::vector<Tensor>& inputs, const AttrMap& attrs = {});

// The attributes an autograd node was recorded with (empty for an op without any).
class Node;
AttrMap node_attrs(const Node& node);

}  // namespace loom::autograd
