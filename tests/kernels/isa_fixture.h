#pragma once
// Per-ISA parameterised kernel tests: each case forces one instruction set (as
// LOOM_ISA would), is skipped with the reason when this CPU lacks it, and puts back
// the selection it found, so cases do not leak their ISA into later tests.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "kernels/cpu/simd_kernels.h"

namespace loom::kernels::testing {

class IsaTest : public ::testing::TestWithParam<cpu::simd::Isa> {
 protected:
  void SetUp() override {
    saved_ = cpu::simd::isa_ceiling();
    const cpu::simd::Isa isa = GetParam();
    if (!cpu::simd::cpu_has(isa))
      GTEST_SKIP() << "this CPU lacks " << cpu::simd::isa_name(isa) << " (" << cpu::simd::declines_isa(isa) << ")";
    cpu::simd::force_isa(isa);
  }
  void TearDown() override { cpu::simd::force_isa(saved_); }

  cpu::simd::Isa isa() const { return GetParam(); }
  const char* isa_name() const { return cpu::simd::isa_name(GetParam()); }

 private:
  cpu::simd::Isa saved_ = cpu::simd::Isa::avx512;
};

// The entry of a kernel list by name: an ISA's ("avx512", "avx2") or "cpu_reference".
template <typename List>
const typename List::Entry& kernel_entry(const List& list, const std::string& name) {
  for (const auto& e : list.entries())
    if (e.name == name)
      return e;
  throw std::runtime_error("no kernel list entry named " + name);
}

// Names the cases ".../avx512", ".../avx2", ".../reference".
inline std::string isa_case_name(const ::testing::TestParamInfo<cpu::simd::Isa>& info) {
  return cpu::simd::isa_name(info.param);
}

}  // namespace loom::kernels::testing
