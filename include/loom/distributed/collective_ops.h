#pragma once
// Collectives and point-to-point messages as autograd ops: their backward is the
// matching communication, so a model split over ranks (tensor or pipeline
// parallel) differentiates across them. Each runs through autograd's one dispatch
// path (profiler span, device check, autograd node, tracer; NOTE [Late-registered
// ops]). f32 and f64 tensors, on the CPU.
//
//   Forward                                Backward (of the input)
//   all_reduce:     sum over the group     all_reduce of the gradient
//   all_gather:     ranks' x along dim 0   this rank's block of the summed gradient (reduce_scatter)
//   reduce_scatter: this rank's block of   all_gather of the gradient
//                   the sum, along dim 0
//   send:           x to `peer`            the gradient received from `peer`
//   recv:           a tensor from `peer`   its gradient sent back to `peer`
//
// The backward of a collective is a collective: every rank of the group must run
// backward through the same collectives in the same order (a chain, as in a
// tensor-parallel layer), as it ran them forward.
#include <memory>

#include "loom/core/tensor.h"
#include "loom/distributed/communicator.h"

namespace loom::distributed {

// The sum (or, with `average`, the mean) of x over the group, on every rank.
Tensor all_reduce(const Tensor& x, const std::shared_ptr<Communicator>& group, bool average = false);

// Every rank's x concatenated along dim 0 in rank order; x must have the same shape on every rank.
Tensor all_gather(const Tensor& x, const std::shared_ptr<Communicator>& group);

// Block `rank` (along dim 0) of the sum of x over the group; dim 0 must divide by the group size.
Tensor reduce_scatter(const Tensor& x, const std::shared_ptr<Communicator>& group);

// Sends x to `peer` and returns a scalar token (zero, x's dtype) whose backward
// receives x's gradient from `peer`: call token.backward() on the sending stage,
// or add the token to its loss.
Tensor send(const Tensor& x, const std::shared_ptr<Communicator>& group, int peer, int tag = 0);

// Receives a tensor of `shape` and `dtype` from `peer` (sent there by send()). Its
// backward sends the tensor's gradient back to `peer`. `after`, when given (a send
// token of this process), orders this receive's backward before the backward of
// whatever produced `after`.
Tensor recv(const Shape& shape, DType dtype, const std::shared_ptr<Communicator>& group, int peer, int tag = 0,
            const Tensor& after = Tensor());

}  // namespace loom::distributed
