#pragma once
// NOTE [Streams]
// Every kernel call carries a KernelContext: the device it runs on and that
// device's current stream on the calling thread (CUDA's cudaStream_t, a SYCL
// queue...). The CPU ignores it: CPU kernels run on the calling thread and its
// intra-op pool. A backend with queues reads `stream.native`; StreamGuard sets
// the current stream of one device for a scope, as torch.cuda.stream() does.
#include "loom/core/device.h"

namespace loom {

struct Stream {
  Device device;
  void* native = nullptr;  // null: the device's default stream
};

// The calling thread's current stream for `device` (its default stream unless a
// StreamGuard set another).
Stream current_stream(Device device);

class StreamGuard {
 public:
  explicit StreamGuard(Stream stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  DeviceType type_;
  Stream previous_;
};

// What a kernel is given besides its arguments.
struct KernelContext {
  Device device;
  Stream stream;
};

}  // namespace loom
