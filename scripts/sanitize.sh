#!/usr/bin/env bash
# Builds loom under the sanitizers and runs tests under them (docs/SANITIZERS.md).
#
#   scripts/sanitize.sh           # both halves
#   scripts/sanitize.sh thread    # ThreadSanitizer: runtime, data-loader and concurrent-inference tests, build-tsan/
#   scripts/sanitize.sh address   # AddressSanitizer + UndefinedBehaviorSanitizer: ctest, build-asan/
#
# Environment:
#   LOOM_SANITIZE_JOBS   build parallelism (default 2)
#   LOOM_ASAN_TESTS      ctest -R regex for the address half (default: every test)
#   LOOM_ASAN_SUITES     build only these test executables, e.g. "runtime_tests core_tests"
#                        (default: everything ctest runs)
# Exits non-zero on the first report: every sanitizer is set to halt on error.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${LOOM_SANITIZE_JOBS:-2}
mode=${1:-all}

run_thread() {
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOM_SANITIZE=thread \
    -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF
  cmake --build build-tsan -j"$jobs" --target runtime_tests data_tests integration_tests
  local supp=build-tsan/tsan.supp
  # OpenBLAS's and libgomp's own threads are not instrumented, nor is the atomic
  # reference count of std::exception_ptr inside libstdc++.so (the last owner
  # destroying an exception another thread created looks like a race on its
  # vptr). These suppressions cover only those; loom's code is never suppressed.
  printf '%s\n' 'race:libopenblas' 'race:libgomp' 'race:std::__exception_ptr::exception_ptr::_M_release' >"$supp"
  # die_after_fork=0: the fork tests start a pool in the child on purpose.
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 die_after_fork=0 suppressions=$PWD/$supp ${TSAN_OPTIONS:-}"
  echo "== TSan: runtime tests"
  build-tsan/tests/runtime_tests
  echo "== TSan: data loader tests"
  build-tsan/tests/data_tests --gtest_filter='DataLoader*:LoaderWorkers*:LoaderSharding*'
  echo "== TSan: one model's forward from 8 threads"
  build-tsan/tests/integration_tests --gtest_filter='ConcurrentInference*'
}

run_address() {
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOOM_SANITIZE=address,undefined \
    -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_BUILD_EXAMPLES=OFF
  if [[ -n "${LOOM_ASAN_SUITES:-}" ]]; then
    # shellcheck disable=SC2086
    cmake --build build-asan -j"$jobs" --target ${LOOM_ASAN_SUITES}
  else
    cmake --build build-asan -j"$jobs"
  fi
  export ASAN_OPTIONS="halt_on_error=1 detect_leaks=1 ${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1 ${UBSAN_OPTIONS:-}"
  # Inside MPI jobs (scripts/mpirun.sh) leak checking is off: OpenMPI's plugins leak
  # and are unloaded at MPI_Finalize, so their leaks cannot even be symbolised,
  # let alone suppressed by name. Everything else ASan and UBSan check stays on.
  export LOOM_MPIRUN_FLAGS="${LOOM_MPIRUN_FLAGS:-} -x ASAN_OPTIONS=halt_on_error=1:detect_leaks=0 -x UBSAN_OPTIONS"
  echo "== ASan+UBSan: ctest"
  (cd build-asan && ctest --output-on-failure -j"${LOOM_TEST_JOBS:-2}" --timeout 900 \
    ${LOOM_ASAN_TESTS:+-R "$LOOM_ASAN_TESTS"})
}

case "$mode" in
  thread) run_thread ;;
  address) run_address ;;
  all)
    run_thread
    run_address
    ;;
  *)
    echo "usage: scripts/sanitize.sh [thread|address|all]" >&2
    exit 2
    ;;
esac
