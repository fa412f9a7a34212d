// The meta device's backend (NOTE [Meta device] in loom/core/device.h): tensors
// there have no storage, so writing one is a no-op and reading one is an error.
// Ops never reach kernels with meta inputs (the dispatcher answers them with the
// shape rule); only core's tensor operations do.
#include "kernel_lists.h"

namespace loom::kernels {
namespace {

std::string accepts(const Tensor&, const Tensor&) { return ""; }

void copy_meta(const Tensor& src, const Tensor& dst) {
  LOOM_CHECK(dst.device().is_meta(), "copy: cannot copy a tensor on the meta device (", dtype_name(src.dtype()), " ",
             shape_str(src.shape()), ") to ", dst.device().str(), ": it has no data");
}

}  // namespace

void register_meta_kernels(KernelLists& lists) {
  lists.copy.add(DeviceType::Meta, "meta", accepts, copy_meta);
  lists.cast.add(DeviceType::Meta, "meta", accepts, copy_meta);
  lists.fill.add(
      DeviceType::Meta, "meta", [](const Tensor&, double) { return std::string(); }, [](const Tensor&, double) {});
  lists.random_fill.add(
      DeviceType::Meta, "meta", [](const Tensor&, const RandomFill&, Generator&) { return std::string(); },
      [](const Tensor&, const RandomFill&, Generator&) {});
}

}  // namespace loom::kernels
