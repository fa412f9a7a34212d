#!/usr/bin/env bash
# Builds tests/consumer against loom twice: through find_package(loom) after
# installing the build, and through add_subdirectory of the source tree.
# The second builds all of loom again, so it runs only with LOOM_CHECK_SUBDIR=1.
# usage: [LOOM_CHECK_SUBDIR=1] scripts/check_consumer.sh BUILD_DIR [SANITIZE]
# SANITIZE (the build's LOOM_SANITIZE, e.g. address,undefined) is passed to the
# consumer's compile and link, since a sanitized libloom needs the sanitizer runtime.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=build_against_install.sh
source "$root/scripts/build_against_install.sh"
build_against_install "$build" "$root/tests/consumer" "$work" "${2:-}"
"$work/installed/consumer"
echo "check_consumer: find_package(loom) links and runs"
if [ "${LOOM_CHECK_SUBDIR:-0}" = 1 ]; then
  cmake -S "$root/tests/consumer" -B "$work/subdir" -DLOOM_SOURCE="$root" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$work/subdir" -j2 --target consumer >/dev/null
  "$work/subdir/consumer"
  echo "check_consumer: add_subdirectory links and runs"
fi
