# Sourced by check_consumer.sh and check_examples.sh.
# build_against_install BUILD_DIR PROJECT_DIR WORK_DIR [SANITIZE]: installs BUILD_DIR
# into WORK_DIR/prefix and builds PROJECT_DIR in WORK_DIR/installed through
# find_package(loom). SANITIZE (the build's LOOM_SANITIZE, e.g. address,undefined)
# goes to the project's compile and link, since a sanitized libloom needs the
# sanitizer runtime.
build_against_install() {
  local build=$1 project=$2 work=$3 sanitize=${4:-}
  cmake --install "$build" --prefix "$work/prefix" >/dev/null
  local sanitize_flags=()
  if [ -n "$sanitize" ]; then
    sanitize_flags=(-DCMAKE_CXX_FLAGS="-fsanitize=$sanitize" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize")
  fi
  cmake -S "$project" -B "$work/installed" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
    "${sanitize_flags[@]}" >/dev/null
  cmake --build "$work/installed" -j2 >/dev/null
}
